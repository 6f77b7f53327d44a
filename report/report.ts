/**
 * The run report: what `--report FILE.json` writes and what the HTML page
 * (`report/html.ts`) renders, plus the closing line in the old
 * tool's words.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { formatStep } from "../ops/pipeline.ts";
import type { CpuSample, Span, Timings } from "../core/results.ts";

/** One worker's line in the report. */
export interface WorkerReport {
  /** Worker id. */
  id: string;
  /** Process id, on its host. */
  pid: number | null;
  /** Host name. */
  host: string | null;
  /** Images it processed. */
  processed: number;
  /** Images it failed. */
  failed: number;
  /** Seconds holding a task. */
  busySeconds: number;
  /** Seconds present but without a task. */
  idleSeconds: number;
  /** Every task it held, ms from the run's start. */
  spans: Span[];
  /**
   * The worker process's own CPU time as it reported it with its results:
   * [seconds since the run's start, cumulative CPU seconds (user + system,
   * all threads) of the process since it started], at most one point per
   * `CPU_POINT_SECONDS` (core/results.ts). Absent for workers that did not report it.
   */
  cpuTime?: [number, number][];
}

/**
 * Mean milliseconds per image of each stage, over successful images (the
 * stages of one task's {@link Timings}), plus the broker's share.
 */
export interface StageReport extends Timings {
  /** Server-side time per image not spent in the stages above (messaging, scheduling). */
  overhead: number;
}

/** The report file's content. */
export interface Report {
  /** Run mode. */
  mode: Job["mode"];
  /** Images found. */
  total: number;
  /** Images written. */
  processed: number;
  /** Images skipped (`--skip-existing`). */
  skipped: number;
  /** Images that failed, with a message each. */
  failed: { path: string; error: string }[];
  /** Images written with a warning. */
  warnings: { path: string; warning: string }[];
  /** Wall-clock seconds, from the first task to the last result. */
  seconds: number;
  /** processed / seconds. */
  imagesPerSecond: number;
  /** Per worker (empty in sequential mode: the server is its only worker). */
  workers: WorkerReport[];
  /** Mean per-stage times. */
  stages: StageReport;
  /** The pipeline, in `--op` syntax. */
  pipeline: string[];
  /** The job as run. */
  job: Job;
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** Whether the run was interrupted (SIGINT/SIGTERM). */
  interrupted: boolean;
  /** Completed images over time: [seconds since start, count]. */
  progress: [number, number][];
  /** CPU use per core sampled during the run. */
  cpu: CpuSample[];
}

/** The stages of {@link Timings} that are one number each. */
const STAGES = ["read", "decode", "ops", "encode", "write"] as const;

/** Accumulates stage timings of successful images. */
export class StageTotals {
  #count = 0;
  #sum: Omit<Timings, "steps"> = { read: 0, decode: 0, ops: 0, encode: 0, write: 0 };
  #steps: Record<string, number> = {};

  /** Adds one image's timings. */
  add(timings: Timings): void {
    this.#count++;
    for (const key of STAGES) this.#sum[key] += timings[key];
    for (const [step, ms] of Object.entries(timings.steps)) {
      this.#steps[step] = (this.#steps[step] ?? 0) + ms;
    }
  }

  /** Mean ms per image; `overhead` from the run's total worker time. */
  report(workerMs: number): StageReport {
    const n = Math.max(1, this.#count);
    const mean = (ms: number) => Math.round((ms / n) * 100) / 100;
    const steps = Object.fromEntries(
      Object.entries(this.#steps).map(([k, v]) => [k, mean(v)]),
    );
    const sum = this.#sum;
    const inside = STAGES.reduce((total, key) => total + sum[key], 0);
    return {
      read: mean(sum.read),
      decode: mean(sum.decode),
      ops: mean(sum.ops),
      steps,
      encode: mean(sum.encode),
      write: mean(sum.write),
      overhead: this.#count ? mean(Math.max(0, workerMs - inside)) : 0,
    };
  }
}

/** The pipeline of a job as `--op` strings. */
export function pipelineStrings(job: Job): string[] {
  return job.pipeline.steps.map(formatStep);
}

/**
 * The closing line, in the old tool's words, then what was not done: failures and skips
 * (printed even under `--quiet`), and after an interruption how to resume.
 */
export function closingLine(
  report: Pick<Report, "processed" | "total" | "seconds" | "skipped" | "failed" | "interrupted">,
): string {
  const line = `server has processed ${report.processed}/${report.total} images in ${
    report.seconds.toFixed(2)
  }s`;
  const notes = [
    ...(report.failed.length ? [`${report.failed.length} failed`] : []),
    ...(report.skipped ? [`${report.skipped} skipped (output exists)`] : []),
  ];
  const left = report.total - report.processed - report.skipped - report.failed.length;
  if (report.interrupted) {
    notes.push(`interrupted with ${left} not done: run it again with --skip-existing to resume`);
  }
  return notes.length ? `${line}; ${notes.join(", ")}` : line;
}

/** The report with secrets removed (the `--token`), as report files show it. */
export function redactReport(report: Report): Report {
  return report.job.token ? { ...report, job: { ...report.job, token: "(hidden)" } } : report;
}

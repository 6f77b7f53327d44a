/**
 * What every mode shares: the {@link Recorder} of outcomes and progress,
 * and the {@link Mode} type with what it returns. Apart from `run.ts`, so
 * that the sequential modes (`sequential.ts`, loaded only when they run)
 * and the broker import it without the rest of a run.
 *
 * @module
 */

import type { Job, Task } from "../core/job.ts";
import { StageTotals, type WorkerReport } from "../report/report.ts";
import type { Log } from "../core/log.ts";
import type { Timings } from "../core/results.ts";

/** What the modes report back for each task. */
export type TaskResult =
  | { ok: true; warnings: string[]; timings: Timings }
  | { ok: false; error: string };

/** Collects outcomes and progress; the modes call it, the report reads it. */
export class Recorder {
  readonly failed: { path: string; error: string }[] = [];
  readonly warnings: { path: string; warning: string }[] = [];
  readonly stages = new StageTotals();
  readonly progressPoints: [number, number][] = [];
  processed = 0;
  #done = 0;
  #started = performance.now();
  #lastPoint = -1;

  constructor(readonly tasks: readonly Task[], readonly log: Log) {}

  /** Marks the start of processing (after planning and worker start-up). */
  start(): void {
    this.#started = performance.now();
    this.log.startClock();
  }

  /** Seconds since {@link start}. */
  get elapsed(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** Tasks with an outcome. */
  get done(): number {
    return this.#done;
  }

  /** Records the final outcome of one task. */
  record(task: Task, result: TaskResult): void {
    this.#done++;
    if (result.ok) {
      this.processed++;
      this.stages.add(result.timings);
      for (const warning of result.warnings) {
        this.warnings.push({ path: task.input, warning });
        this.log.warn(`${task.input}: ${warning}`, { path: task.input });
      }
      this.log.debug(`${task.input} → ${task.output}`, {
        path: task.input,
        output: task.output,
      });
    } else {
      this.failed.push({ path: task.input, error: result.error });
      this.log.failed(`${task.input}: ${result.error}`, {
        path: task.input,
        error: result.error,
      });
    }
    this.#progress();
  }

  /**
   * Records as done a task whose output was found written when the run was
   * interrupted, its worker's answer still to come (a batching worker answers
   * several tasks at once): counted, with no timings or warnings.
   */
  recordWritten(task: Task): void {
    this.#done++;
    this.processed++;
    this.log.debug(`${task.input} → ${task.output} (written, not answered)`, {
      path: task.input,
      output: task.output,
    });
    this.#progress();
  }

  #progress(): void {
    const second = Math.floor(this.elapsed * 4) / 4;
    if (second !== this.#lastPoint || this.#done === this.tasks.length) {
      this.#lastPoint = second;
      this.progressPoints.push([
        Math.round(this.elapsed * 1000) / 1000,
        this.#done,
      ]);
    }
    this.log.progress(
      this.#done,
      this.tasks.length,
      this.#done === this.tasks.length,
      this.failed.length,
    );
  }
}

/** What the parallel broker returns. */
export interface ModeResult {
  /** Per-worker lines for the report. */
  workers: WorkerReport[];
  /** Sum of ms workers held tasks (for the messaging overhead figure). */
  workerMs: number;
}

/** A run's mode: processes `tasks`, recording each outcome, until done or aborted. */
export type Mode = (
  job: Job,
  tasks: Task[],
  recorder: Recorder,
  signal: AbortSignal,
) => Promise<ModeResult>;

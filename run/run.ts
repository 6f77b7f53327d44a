/**
 * A run from start to end, whatever the mode: plan, prepare the output
 * folder, hand the tasks to the sequential loop or the ZeroMQ broker,
 * record outcomes, write the report, pick the exit code.
 *
 * @module
 */

import { join } from "node:path";
import { type Job, STDOUT, type Task } from "../core/job.ts";
import { planTasks } from "./plan.ts";
import {
  closingLine,
  pipelineStrings,
  type Report,
  StageTotals,
  type WorkerReport,
} from "../report/report.ts";
import { Log } from "../core/log.ts";
import { CpuSampler } from "./cpu.ts";
import {
  describeError,
  encodeFile,
  pipelineFor,
  processBytes,
  readWhole,
  summarise,
} from "../task/task.ts";
import { WriteBehind } from "./write_behind.ts";
import { dryRunLines, judge } from "./dry_run.ts";
import { EXIT, RunError, UsageError } from "../core/errors.ts";
import { describeWriteError, TEMP_MARKER } from "../core/atomic.ts";
import type { Timings } from "../core/results.ts";
import { writeReports } from "../report/write.ts";

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

/** Removes temporary files a killed process may have left in the output folder. */
export async function sweepTemporaries(dir: string): Promise<number> {
  let removed = 0;
  const visit = async (path: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(path));
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await visit(full);
      else if (entry.name.includes(TEMP_MARKER)) {
        await Deno.remove(full).then(() => removed++, () => {});
      }
    }
  };
  await visit(dir);
  return removed;
}

async function prepareOutput(job: Job): Promise<void> {
  try {
    await Deno.mkdir(job.output, { recursive: true });
    const probe = join(job.output, `.zpix-write-test${TEMP_MARKER}${Deno.pid}`);
    await Deno.writeFile(probe, new Uint8Array(0));
    await Deno.remove(probe);
  } catch (error) {
    const why = error instanceof Deno.errors.PermissionDenied ||
        error instanceof Deno.errors.NotCapable
      ? "permission denied (zpix needs --allow-write for it)"
      : (error as Error).message;
    throw new RunError(`cannot write to --output ${job.output}: ${why}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
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

/**
 * Sequential mode: every task in this process, in order. Each output is
 * written behind the next image's work ({@link WriteBehind}); an outcome is
 * recorded once its file is written, and the run ends (Ctrl-C included) only
 * when every write started has ended.
 */
export const runSequential: Mode = async (job, tasks, recorder, signal) => {
  let workerMs = 0;
  const writes = new WriteBehind();
  try {
    for (const task of tasks) {
      if (signal.aborted) break;
      await writes.turn();
      const started = performance.now();
      const output = join(job.output, task.output);
      const prepared = await encodeFile(join(job.input, task.input), output, job.pipeline);
      workerMs += performance.now() - started;
      if (!prepared.ok) {
        recorder.record(task, prepared);
        continue;
      }
      const { encoded } = prepared;
      await writes.write(output, encoded.bytes, (error, ms) => {
        workerMs += ms;
        encoded.timings.write = ms;
        recorder.record(
          task,
          error === null
            ? { ok: true, ...summarise(encoded) }
            : { ok: false, error: describeWriteError(error, output) },
        );
      });
    }
  } finally {
    await writes.drain();
  }
  return { workers: [], workerMs };
};

/**
 * `--output -`: the one task's image is written to standard output (in this
 * process, whatever the mode: one image needs no workers).
 */
export const runToStdout: Mode = async (job, tasks, recorder) => {
  const [task] = tasks;
  const started = performance.now();
  let result: TaskResult;
  try {
    const path = join(job.input, task.input);
    const input = readWhole(path, Deno.statSync(path).size); // one buffer: no 2x peak
    const read = performance.now() - started;
    const encoded = await processBytes(input, pipelineFor(job.pipeline, task.output));
    const writing = performance.now();
    await writeAll(Deno.stdout, encoded.bytes);
    encoded.timings.read = read;
    encoded.timings.write = performance.now() - writing;
    result = { ok: true, warnings: encoded.warnings, timings: encoded.timings };
  } catch (error) {
    result = { ok: false, error: describeError(error, task.input, "standard output") };
  }
  recorder.record(task, result);
  return { workers: [], workerMs: performance.now() - started };
};

async function writeAll(writer: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  for (let done = 0; done < bytes.length;) done += await writer.write(bytes.subarray(done));
}

/** The mode `loadMode` gives; without one, only sequential jobs can run. */
function loadMode(load?: () => Promise<Mode>): Promise<Mode> {
  if (!load) throw new RunError("this job's mode needs a broker: pass runJob a loadMode");
  return load();
}

/** The outcome of a whole run. */
export interface RunOutcome {
  /** The report, also written to the `--report` files; null after `--dry-run`. */
  report: Report | null;
  /** The process exit code. */
  exitCode: number;
}

/**
 * Runs a job. Usage problems throw {@link UsageError} before anything is
 * written; a run-stopping problem throws {@link RunError}.
 * `signal` aborts the run (Ctrl-C): finished outputs stay, nothing partial.
 */
export async function runJob(
  job: Job,
  options: {
    signal?: AbortSignal;
    log?: Log;
    mode?: Mode;
    /**
     * Loads the mode of a `parallel` or `serve` job (the broker), called once
     * planning found work to do: the caller (main.ts) keeps ZeroMQ's FFI check
     * and the broker's modules out of start-up and out of this room.
     */
    loadMode?: () => Promise<Mode>;
    stdout?: (line: string) => void;
  } = {},
): Promise<RunOutcome> {
  const log = options.log ?? new Log(job);
  const signal = options.signal ?? new AbortController().signal;
  const startedAt = new Date().toISOString();
  const all = await planTasks(job);
  for (const report of job.reports) {
    if (!(await exists(join(report, "..")))) {
      throw new UsageError(`--report ${report}: its folder does not exist`);
    }
  }
  const toStdout = job.output === STDOUT;
  const outputExists = (task: Task) =>
    toStdout ? Promise.resolve(false) : exists(join(job.output, task.output));
  if (job.dryRun) {
    const print = options.stdout ?? console.log;
    for (const line of dryRunLines(job, await judge(job, all, outputExists))) print(line);
    return { report: null, exitCode: EXIT.ok };
  }
  if (!toStdout) {
    await prepareOutput(job);
    await sweepTemporaries(job.output);
  }

  let tasks = all;
  let skipped = 0;
  if (job.skipExisting && !toStdout) {
    const kept: Task[] = [];
    for (const task of all) {
      if (await exists(join(job.output, task.output))) skipped++;
      else kept.push(task);
    }
    tasks = kept.map((task, index) => ({ ...task, index }));
    if (skipped) {
      log.info(`skipping ${skipped} image(s) whose output already exists`);
    }
  }

  const recorder = new Recorder(tasks, log);
  const cpu = new CpuSampler();
  cpu.start();
  const mode = options.mode ??
    (toStdout
      ? runToStdout
      : job.mode === "sequential"
      ? runSequential
      : await loadMode(options.loadMode));
  let result: ModeResult;
  try {
    log.info(
      `${job.mode}: ${tasks.length} image(s) from ${job.input} → ${job.output} (${
        pipelineStrings(job).join(", ")
      })`,
    );
    recorder.start();
    result = tasks.length ? await mode(job, tasks, recorder, signal) : { workers: [], workerMs: 0 };
  } finally {
    cpu.stop();
    log.finish();
    if (!toStdout) await sweepTemporaries(job.output);
  }
  const seconds = Math.round(recorder.elapsed * 1000) / 1000;
  const report: Report = {
    mode: job.mode,
    total: all.length,
    processed: recorder.processed,
    skipped,
    failed: recorder.failed,
    warnings: recorder.warnings,
    seconds,
    imagesPerSecond: seconds > 0 ? Math.round((recorder.processed / seconds) * 100) / 100 : 0,
    workers: result.workers,
    stages: recorder.stages.report(result.workerMs),
    pipeline: pipelineStrings(job),
    job,
    startedAt,
    interrupted: signal.aborted,
    progress: recorder.progressPoints,
    cpu: cpu.samples,
  };
  await writeReports(report, job.reports);
  // With `-o -` standard output holds the image: the closing line goes to stderr.
  (options.stdout ?? (toStdout ? console.error : console.log))(closingLine(report));
  const exitCode = signal.aborted
    ? (signal.reason === "SIGTERM" ? EXIT.sigterm : EXIT.sigint)
    : recorder.failed.length || recorder.done < tasks.length
    ? EXIT.someFailed
    : EXIT.ok;
  return { report, exitCode };
}

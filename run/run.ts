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
import { closingLine, pipelineStrings, type Report } from "../report/report.ts";
import { Log } from "../core/log.ts";
import { CpuSampler } from "./cpu.ts";
import { dryRunLines, judge } from "./dry_run.ts";
import { EXIT, RunError, UsageError } from "../core/errors.ts";
import { isStaleTemporary, TEMP_MARKER } from "../core/atomic.ts";
import { writeReports } from "../report/write.ts";
import { type Mode, type ModeResult, Recorder } from "./recorder.ts";

// The broker and main.ts know these as run.ts's.
export { type Mode, type ModeResult, Recorder, type TaskResult } from "./recorder.ts";

/**
 * Removes temporary files that killed writers left in the output folder;
 * never one a live process (another run writing into the same folder) is
 * filling: core/atomic.ts `isStaleTemporary`.
 */
export async function sweepTemporaries(dir: string): Promise<number> {
  let removed = 0;
  const visit = async (path: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(path)]; // one call either way; async costs ~2 ms a thousand
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await visit(full);
      else if (entry.isFile && entry.name.includes(TEMP_MARKER) && isStaleTemporary(full)) {
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
    (toStdout || job.mode === "sequential"
      ? (await import("./sequential.ts"))[toStdout ? "runToStdout" : "runSequential"]
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

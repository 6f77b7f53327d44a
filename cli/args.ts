/**
 * The one place that turns command-line arguments into a validated
 * {@link Job} (or worker options), from the option tables and readers of
 * `options.ts`. Nothing here touches the file system beyond `resolve`:
 * folder checks happen in `run/plan.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { formatStep } from "../ops/pipeline.ts";
import {
  type Encoder,
  type Job,
  type LogFormat,
  MAX_BATCH,
  type OutputFormat,
  type WorkerOptions,
} from "../core/job.ts";
import { UsageError } from "../core/errors.ts";
import { WRITABLE_FORMATS } from "../ops/formats.ts";
import {
  checkResizeSizes,
  cleanParseError,
  DEFAULT_TASK_TIMEOUT,
  defaultWorkers,
  integer,
  INTEGER_OPTIONS,
  integerOption,
  JOB_OPTIONS,
  type JobOption,
  LOCAL_PREFETCH,
  normaliseArgs,
  normalisePattern,
  oneOf,
  PARALLEL_ONLY,
  positive,
  readBind,
  readFolders,
  readName,
  readPayloadWindow,
  readReports,
  readSharedFolders,
  readSteps,
  SERVE_ONLY,
  WORKER_BATCH,
} from "./options.ts";

/** Subcommand aliases. */
export const COMMANDS: Record<string, string> = {
  sequential: "sequential",
  "sequential-processing": "sequential",
  parallel: "parallel",
  "parallel-processing": "parallel",
  serve: "serve",
  worker: "worker",
  keygen: "keygen",
  demo: "demo",
  help: "help",
};

/**
 * The folder relative paths are taken from: where the user typed the
 * command. `deno task` runs in the project folder and records the user's
 * folder in INIT_CWD (read only when --allow-env grants it).
 */
export function userCwd(): string {
  const granted =
    Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" }).state === "granted";
  return (granted ? Deno.env.get("INIT_CWD") : undefined) ?? Deno.cwd();
}

/** The result of parsing a job command line: a job, or a request for help. */
export type ParsedJob = { kind: "job"; job: Job } | { kind: "help" };

/**
 * Parses the arguments after a job subcommand (`sequential`, `parallel`,
 * `serve`) into a validated {@link Job}. Throws {@link UsageError}.
 */
export function parseJob(
  mode: Job["mode"],
  args: readonly string[],
  cwd = userCwd(),
): ParsedJob {
  let values: Partial<Record<JobOption, string | string[] | boolean>>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: normaliseArgs(args),
      options: JOB_OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(cleanParseError(error));
  }
  if (values.help) return { kind: "help" };
  if (positionals.length > 0) {
    throw new UsageError(
      `unexpected argument "${positionals[0]}" (flags start with --)`,
    );
  }
  const str = (name: JobOption) => values[name] as string | undefined;
  const misplaced = [
    ...(mode === "sequential" ? PARALLEL_ONLY : []),
    ...(mode === "serve" ? [] : SERVE_ONLY),
  ].find((name) => values[name] !== undefined);
  if (misplaced) {
    throw new UsageError(`--${misplaced} is not an option of ${mode}`);
  }

  const { input, output } = readFolders(mode, str("input"), str("output"), cwd);
  const steps = readSteps(str("size"), (values.op as string[] | undefined) ?? [], {
    background: str("background"),
    noEnlarge: Boolean(values["no-enlarge"]),
    kernel: str("kernel"),
  });
  const reports = readReports((values.report as string[] | undefined) ?? []);
  const bind = readBind(str("bind"));
  const token = str("token") ??
    (mode === "serve" ? Deno.env.get("ZPIX_TOKEN") ?? null : null);
  const number = (name: keyof typeof INTEGER_OPTIONS) => integerOption(name, str(name));

  const job: Job = {
    mode,
    input,
    only: null,
    output,
    name: readName(str("name"), steps),
    dryRun: Boolean(values["dry-run"]),
    pattern: str("pattern") === undefined ? null : normalisePattern(str("pattern")!),
    recursive: Boolean(values.recursive),
    pipeline: {
      steps,
      format: oneOf<OutputFormat>("format", str("format"), ["same", ...WRITABLE_FORMATS], "same"),
      quality: number("quality"),
      encoder: oneOf<Encoder>("encoder", str("encoder"), ["fast", "mozjpeg"], "fast"),
      maxPixels: number("max-pixels"),
      ...(values["keep-icc"] ? { keepIcc: true } : {}),
      ...(values["keep-metadata"] ? { keepMetadata: true } : {}),
    },
    workers: mode === "sequential"
      ? 1
      : integer("workers", str("workers"), mode === "serve" ? 0 : 1, 256, defaultWorkers()),
    bind: mode === "serve" ? bind ?? "tcp://127.0.0.1:5555" : null,
    token,
    ...readPayloadWindow(str("payload-window")),
    sharedFs: Boolean(values["shared-fs"]),
    curveSecret: str("curve-secret") === undefined ? null : resolve(cwd, str("curve-secret")!),
    // relative to the user's folder, like --input and --output (deno task runs elsewhere)
    reports: reports.map((report) => resolve(cwd, report)),
    quiet: Boolean(values.quiet),
    verbose: Boolean(values.verbose),
    logFormat: oneOf<LogFormat>("log-format", str("log-format"), ["text", "json"], "text"),
    skipExisting: Boolean(values["skip-existing"]),
    taskTimeout: positive("task-timeout", str("task-timeout"), DEFAULT_TASK_TIMEOUT),
    maxTasksPerWorker: number("max-tasks-per-worker"),
    maxAttempts: number("max-attempts"),
    prefetch: mode === "parallel" && str("prefetch") === undefined
      ? LOCAL_PREFETCH
      : number("prefetch"),
    // A --prefetch alone asks for today's one-task rule, which batches would override.
    batch: str("batch") === undefined && str("prefetch") !== undefined ? 1 : number("batch"),
  };
  checkResizeSizes(job.pipeline.steps, job.pipeline.maxPixels, str("size") !== undefined);
  if (job.quiet && job.verbose) {
    throw new UsageError("--quiet and --verbose cannot be used together");
  }
  return { kind: "job", job };
}

function canReadToken(): boolean {
  return Deno.permissions.querySync({ name: "env", variable: "ZPIX_TOKEN" }).state === "granted";
}

/** Parses the `worker` subcommand's arguments. Throws {@link UsageError}. */
export function parseWorker(args: readonly string[]): WorkerOptions | "help" {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        connect: { type: "string" },
        token: { type: "string" },
        processes: { type: "string" },
        persist: { type: "boolean" },
        id: { type: "string" },
        local: { type: "boolean" },
        "server-timeout": { type: "string" },
        "max-tasks": { type: "string" },
        batch: { type: "string" },
        "curve-server-key": { type: "string" },
        "exit-with-parent": { type: "boolean" },
        "shared-fs": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(cleanParseError(error));
  }
  if (values.help) return "help";
  const connect = values.connect as string | undefined;
  if (!connect) {
    throw new UsageError(
      "missing --connect tcp://HOST:PORT (the server's address)",
    );
  }
  if (!/^(tcp:\/\/[^:]+:\d+|ipc:\/\/.+)$/.test(connect)) {
    throw new UsageError(
      `--connect must look like tcp://HOST:PORT or ipc://PATH, got "${connect}"`,
    );
  }
  return {
    connect,
    // Local workers get env access (to ZPIX_TOKEN) only when their server has a token.
    token: (values.token as string | undefined) ??
      (values.local && !canReadToken() ? null : Deno.env.get("ZPIX_TOKEN") ?? null),
    processes: integer(
      "processes",
      values.processes as string | undefined,
      1,
      256,
      1,
    ),
    persist: Boolean(values.persist),
    id: (values.id as string | undefined) ?? null,
    local: Boolean(values.local),
    serverTimeout: positive(
      "server-timeout",
      values["server-timeout"] as string | undefined,
      5,
    ),
    maxTasks: integer(
      "max-tasks",
      values["max-tasks"] as string | undefined,
      0,
      Number.MAX_SAFE_INTEGER,
      0,
    ),
    batch: integer("batch", values.batch as string | undefined, 1, MAX_BATCH, WORKER_BATCH),
    curveServerKey: (values["curve-server-key"] as string | undefined) ?? null,
    exitWithParent: Boolean(values["exit-with-parent"]),
    sharedFs: readSharedFolders(
      values["shared-fs"] as string[] | undefined,
      Boolean(values.local),
      userCwd(),
    ),
  };
}

/** One-line summary of a job's pipeline, for logs and reports. */
export function describePipeline(job: Job): string {
  return job.pipeline.steps.map(formatStep).join(" → ");
}

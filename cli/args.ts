/**
 * The one place that turns command-line arguments into a validated
 * {@link Job} (or worker options). Nothing here touches the file system
 * beyond `resolve`: folder checks happen in `run/plan.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { formatStep, parseSize, parseStep, type Step, StepError } from "../ops/pipeline.ts";
import type { Encoder, Job, LogFormat, OutputFormat, WorkerOptions } from "../core/job.ts";
import { UsageError } from "../core/errors.ts";
import { FORMAT_NAMES } from "../ops/formats.ts";
import { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS } from "../ops/defaults.ts";

/** The old tool's flag names, accepted as aliases. */
const ALIASES: Record<string, string> = {
  "--path2initial_images": "--input",
  "--path2resized_images": "--output",
  "--image_extension": "--pattern",
  "--nb_workers": "--workers",
};

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

/** Default number of local workers: one per CPU core. */
export function defaultWorkers(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** Default seconds a task may run before its worker is replaced. */
export const DEFAULT_TASK_TIMEOUT = 60;

/**
 * Default for `serve --payload-window`: most image payloads (remote tasks
 * read, sent and not yet answered) the server holds in memory at once.
 */
export const PAYLOAD_WINDOW = 16;

/** Default attempts per image. */
export const DEFAULT_MAX_ATTEMPTS = 3;

const JOB_OPTIONS = {
  input: { type: "string", short: "i" },
  output: { type: "string", short: "o" },
  pattern: { type: "string" },
  recursive: { type: "boolean", short: "r" },
  op: { type: "string", multiple: true },
  size: { type: "string" },
  format: { type: "string" },
  quality: { type: "string" },
  encoder: { type: "string" },
  report: { type: "string", multiple: true },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  "log-format": { type: "string" },
  "skip-existing": { type: "boolean" },
  "max-pixels": { type: "string" },
  workers: { type: "string", short: "w" },
  "task-timeout": { type: "string" },
  "max-tasks-per-worker": { type: "string" },
  "max-attempts": { type: "string" },
  prefetch: { type: "string" },
  bind: { type: "string" },
  token: { type: "string" },
  "payload-window": { type: "string" },
  "curve-secret": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type JobOption = keyof typeof JOB_OPTIONS;

/** Options that only make sense with ZeroMQ workers. */
const PARALLEL_ONLY: JobOption[] = [
  "workers",
  "task-timeout",
  "max-tasks-per-worker",
  "max-attempts",
  "prefetch",
];
const SERVE_ONLY: JobOption[] = [
  "bind",
  "token",
  "payload-window",
  "curve-secret",
];

/**
 * Rewrites the old tool's spellings: aliases, and `--size W H` (two values)
 * into `--size WxH`.
 */
export function normaliseArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let arg = args[i];
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (ALIASES[name]) arg = ALIASES[name] + (eq > 0 ? arg.slice(eq) : "");
    if (
      name === "--size" && eq < 0 && /^\d+$/.test(args[i + 1] ?? "") &&
      /^\d+$/.test(args[i + 2] ?? "")
    ) {
      out.push("--size", `${args[i + 1]}x${args[i + 2]}`);
      i += 2;
      continue;
    }
    out.push(arg);
  }
  return out;
}

function integer(
  flag: string,
  text: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (
    text.trim() === "" || !Number.isInteger(value) || value < min || value > max
  ) {
    throw new UsageError(
      `--${flag} must be an integer from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

function positive(
  flag: string,
  text: string | undefined,
  fallback: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(
      `--${flag} must be a number of seconds above 0, got "${text}"`,
    );
  }
  return value;
}

function oneOf<T extends string>(
  flag: string,
  text: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(
      `--${flag} must be one of ${allowed.join(", ")}, got "${text}"`,
    );
  }
  return text as T;
}

/** Turns `--pattern` values of the old tool (`jpg`, `.jpg`) into globs (`*.jpg`). */
export function normalisePattern(text: string): string {
  const trimmed = text.trim();
  if (/^\.?[A-Za-z0-9]+$/.test(trimmed)) {
    return `*.${trimmed.replace(/^\./, "")}`;
  }
  return trimmed;
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

  if (!str("input")) {
    throw new UsageError(
      "missing --input DIR (the folder of images to process)",
    );
  }
  if (!str("output")) {
    throw new UsageError("missing --output DIR (where processed images go)");
  }
  const input = resolve(cwd, str("input")!);
  const output = resolve(cwd, str("output")!);
  if (input === output) {
    throw new UsageError(
      "--output must differ from --input: zpix never overwrites its inputs",
    );
  }
  // Workers get `--allow-read=IN,OUT,...`: Deno splits that list on commas and cannot escape one.
  const comma = mode === "sequential" ? undefined : [input, output].find((p) => p.includes(","));
  if (comma) {
    throw new UsageError(
      `${comma} contains a comma, which Deno's sandbox flags for workers cannot express; ` +
        "rename the folder or use sequential",
    );
  }

  const steps: Step[] = [];
  try {
    if (str("size") !== undefined) {
      steps.push({ op: "resize", ...parseSize(str("size")!), fit: "fill" });
    }
    for (const text of (values.op as string[] | undefined) ?? []) {
      steps.push(parseStep(text));
    }
  } catch (error) {
    if (error instanceof StepError) {
      throw new UsageError(
        `${str("size") !== undefined && !steps.length ? "--size" : "--op"}: ${error.message}`,
      );
    }
    throw error;
  }
  if (steps.length === 0) {
    steps.push({ op: "resize", width: 512, height: 512, fit: "fill" });
  }

  const reports = (values.report as string[] | undefined) ?? [];
  for (const report of reports) {
    if (!/\.(json|html?)$/i.test(report)) {
      throw new UsageError(`--report "${report}" must end in .json or .html`);
    }
  }
  const bind = str("bind") ?? null;
  if (bind !== null && !/^(tcp:\/\/[^:]+:\d+|ipc:\/\/.+)$/.test(bind)) {
    throw new UsageError(
      `--bind must look like tcp://HOST:PORT or ipc://PATH, got "${bind}"`,
    );
  }
  const token = str("token") ??
    (mode === "serve" ? Deno.env.get("ZPIX_TOKEN") ?? null : null);

  const job: Job = {
    mode,
    input,
    output,
    pattern: str("pattern") === undefined ? null : normalisePattern(str("pattern")!),
    recursive: Boolean(values.recursive),
    pipeline: {
      steps,
      format: oneOf<OutputFormat>("format", str("format"), ["same", ...FORMAT_NAMES], "same"),
      quality: integer("quality", str("quality"), 1, 100, DEFAULT_JPEG_QUALITY),
      encoder: oneOf<Encoder>(
        "encoder",
        str("encoder"),
        ["fast", "mozjpeg"],
        "fast",
      ),
      maxPixels: integer(
        "max-pixels",
        str("max-pixels"),
        1,
        Number.MAX_SAFE_INTEGER,
        DEFAULT_MAX_PIXELS,
      ),
    },
    workers: mode === "sequential" ? 1 : integer(
      "workers",
      str("workers"),
      mode === "serve" ? 0 : 1,
      256,
      defaultWorkers(),
    ),
    bind: mode === "serve" ? bind ?? "tcp://127.0.0.1:5555" : null,
    token,
    payloadWindow: integer("payload-window", str("payload-window"), 1, 100_000, PAYLOAD_WINDOW),
    curveSecret: str("curve-secret") === undefined ? null : resolve(cwd, str("curve-secret")!),
    // relative to the user's folder, like --input and --output (deno task runs elsewhere)
    reports: reports.map((report) => resolve(cwd, report)),
    quiet: Boolean(values.quiet),
    verbose: Boolean(values.verbose),
    logFormat: oneOf<LogFormat>("log-format", str("log-format"), [
      "text",
      "json",
    ], "text"),
    skipExisting: Boolean(values["skip-existing"]),
    taskTimeout: positive(
      "task-timeout",
      str("task-timeout"),
      DEFAULT_TASK_TIMEOUT,
    ),
    maxTasksPerWorker: integer(
      "max-tasks-per-worker",
      str("max-tasks-per-worker"),
      0,
      Number.MAX_SAFE_INTEGER,
      0,
    ),
    maxAttempts: integer(
      "max-attempts",
      str("max-attempts"),
      1,
      100,
      DEFAULT_MAX_ATTEMPTS,
    ),
    prefetch: integer("prefetch", str("prefetch"), 0, 3, 0),
  };
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
  let values: Record<string, string | boolean | undefined>;
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
        "curve-server-key": { type: "string" },
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
    curveServerKey: (values["curve-server-key"] as string | undefined) ?? null,
  };
}

function cleanParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // node:util names flags as "-w, --workers <value>"; keep the long name.
  const flag = (spec: string) => spec.replace(/ <value>$/, "").split(", ").pop();
  const missing = /^Option '([^']+)' argument missing/.exec(message);
  if (missing) return `${flag(missing[1])} needs a value`;
  const ambiguous = /^Option '([^']+)' argument is ambiguous.*?use '(--[\w-]+)=/s.exec(message);
  if (ambiguous) {
    return `${flag(ambiguous[1])} needs a value (for one starting with "-", write ${
      ambiguous[2]
    }=VALUE)`;
  }
  const noValue = /^Option '([^']+)' does not take an argument/.exec(message);
  if (noValue) return `${flag(noValue[1])} takes no value`;
  // node:util's messages end with advice about "--" that does not apply here.
  return message.replace(/\. To specify a positional argument.*$/s, "").replace(
    /^Unknown option/,
    "unknown option",
  ).split("\n")[0];
}

/** One-line summary of a job's pipeline, for logs and reports. */
export function describePipeline(job: Job): string {
  return job.pipeline.steps.map(formatStep).join(" → ");
}

/**
 * The command line's option tables and the validated readers parseJob and
 * parseWorker are built from: every flag's type, its range or choices and
 * its default, and one reader per concern (folders, steps, reports, bind).
 * Each reader throws {@link UsageError} with a one-line message.
 *
 * @module
 */

import { resolve } from "node:path";
import {
  formatStep,
  parseColour,
  parseSize,
  parseStep,
  type ResizeStep,
  type Step,
  StepError,
} from "../ops/pipeline.ts";
import { DEFAULT_KERNEL, type Kernel, KERNELS } from "../ops/kernels/mod.ts";
import { type Job, MAX_BATCH, MAX_SHARED_FOLDERS, STDOUT } from "../core/job.ts";
import { UsageError } from "../core/errors.ts";
import { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS, overPixelLimit } from "../ops/defaults.ts";

/** The old tool's flag names, accepted as aliases. */
const ALIASES: Record<string, string> = {
  "--path2initial_images": "--input",
  "--path2resized_images": "--output",
  "--image_extension": "--pattern",
  "--nb_workers": "--workers",
};

/** Default number of local workers: one per CPU core. */
export function defaultWorkers(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** Default seconds a task may run before its worker is replaced. */
export const DEFAULT_TASK_TIMEOUT = 60;

/**
 * Default for `serve --payload-window`: most bytes of image payloads (remote
 * tasks' inputs read and not yet answered, outputs not yet written) the
 * server holds in memory at once. A size, not a count of images: a count
 * that bounds 24 MP photos also throttled tiny images (16 of 485 bytes held
 * 8 batching fakes to one task a message's pace). See docs/distributed.md,
 * "Memory: the payload window".
 */
export const PAYLOAD_WINDOW_BYTES = 64 * 1024 * 1024;

/** Largest `--payload-window` size: 64 GiB. */
const MAX_WINDOW_BYTES = 64 * 1024 ** 3;

/** Largest `--payload-window` count of images. */
const MAX_WINDOW_IMAGES = 100_000;

/** Binary multipliers of a `--payload-window` size's unit (K, M, G; "KiB", "KB", "k" alike). */
const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * `serve --payload-window`: a plain number is a count of images (as before
 * sizes were accepted), a number with a unit (`256MiB`, `64M`, `1GiB`,
 * `512KiB`, `100000B`; units are binary) a size in bytes. Hand-written: npm's
 * `bytes` does not read `MiB`, and this is a dozen lines. Throws {@link UsageError}.
 */
export function readPayloadWindow(
  text: string | undefined,
): Pick<Job, "payloadWindow" | "payloadWindowBytes"> {
  if (text === undefined) {
    return { payloadWindow: 0, payloadWindowBytes: PAYLOAD_WINDOW_BYTES };
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([bkmg])(?:i?b)?)?\s*$/i.exec(text);
  if (match && match[2] === undefined && !match[1].includes(".")) {
    const images = integer("payload-window", match[1], 1, MAX_WINDOW_IMAGES, 1);
    return { payloadWindow: images, payloadWindowBytes: 0 };
  }
  const bytes = match?.[2] ? Math.floor(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()]) : 0;
  if (!(bytes >= 1 && bytes <= MAX_WINDOW_BYTES)) {
    throw new UsageError(
      `--payload-window ${
        JSON.stringify(text)
      }: give a count of images (1..${MAX_WINDOW_IMAGES}) ` +
        `or a size such as 256MiB (1B..64GiB)`,
    );
  }
  return { payloadWindow: 0, payloadWindowBytes: bytes };
}

/**
 * Default `--prefetch` of `parallel` (local workers only): each worker holds
 * the next task while it works on one, so it never waits for the round trip
 * to the server, and a task costs two messages (result, task) rather than
 * three (an early `ready` too) or a wait. `serve` keeps 0 (remote payloads
 * count against the payload window). See docs/performance.md, "Messaging".
 */
export const LOCAL_PREFETCH = 1;

/**
 * Default `--batch` of `parallel` and `serve`: most tasks a worker is
 * granted in one message and holds at once; their local workers ask for
 * that many. See docs/performance.md, "Batches".
 */
export const DEFAULT_BATCH = 16;

/**
 * Default `--batch` of `zpix worker` (a remote worker): how many tasks it
 * asks for at once. 8 since the payload window counts bytes, not images (1
 * before: a window of 16 images left batches nothing to gain): past the
 * issue's 10,000 tasks/s on tmpfs like 16, with half the tasks a hung worker
 * holds until --task-timeout and half the grant that quantises a worker's
 * share (docs/distributed.md, "How many workers one server feeds";
 * docs/performance.md, "Batches").
 */
export const WORKER_BATCH = 8;

/** Default attempts per image. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** The job subcommands' flags, as node:util parseArgs reads them. */
export const JOB_OPTIONS = {
  input: { type: "string", short: "i" },
  output: { type: "string", short: "o" },
  pattern: { type: "string" },
  recursive: { type: "boolean", short: "r" },
  op: { type: "string", multiple: true },
  size: { type: "string" },
  format: { type: "string" },
  quality: { type: "string" },
  encoder: { type: "string" },
  "keep-icc": { type: "boolean" },
  "keep-metadata": { type: "boolean" },
  report: { type: "string", multiple: true },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  "log-format": { type: "string" },
  "skip-existing": { type: "boolean" },
  "max-pixels": { type: "string" },
  name: { type: "string" },
  "dry-run": { type: "boolean" },
  background: { type: "string" },
  "no-enlarge": { type: "boolean" },
  kernel: { type: "string" },
  workers: { type: "string", short: "w" },
  "task-timeout": { type: "string" },
  "max-tasks-per-worker": { type: "string" },
  "max-attempts": { type: "string" },
  prefetch: { type: "string" },
  batch: { type: "string" },
  bind: { type: "string" },
  token: { type: "string" },
  "payload-window": { type: "string" },
  "curve-secret": { type: "string" },
  "shared-fs": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** A job subcommand's flag name. */
export type JobOption = keyof typeof JOB_OPTIONS;

/** Options that only make sense with ZeroMQ workers. */
export const PARALLEL_ONLY: JobOption[] = [
  "workers",
  "task-timeout",
  "max-tasks-per-worker",
  "max-attempts",
  "prefetch",
  "batch",
];
/** Options that only make sense for `serve`. */
export const SERVE_ONLY: JobOption[] = [
  "bind",
  "token",
  "payload-window",
  "curve-secret",
  "shared-fs",
];

/** The integer flags of a job: range and default. */
export const INTEGER_OPTIONS = {
  quality: { min: 1, max: 100, fallback: DEFAULT_JPEG_QUALITY },
  "max-pixels": { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: DEFAULT_MAX_PIXELS },
  "max-tasks-per-worker": { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 },
  "max-attempts": { min: 1, max: 100, fallback: DEFAULT_MAX_ATTEMPTS },
  prefetch: { min: 0, max: 3, fallback: 0 },
  batch: { min: 1, max: MAX_BATCH, fallback: DEFAULT_BATCH },
} as const satisfies Partial<Record<JobOption, { min: number; max: number; fallback: number }>>;

/** The value of an integer flag of {@link INTEGER_OPTIONS}. Throws {@link UsageError}. */
export function integerOption(
  name: keyof typeof INTEGER_OPTIONS,
  text: string | undefined,
): number {
  const { min, max, fallback } = INTEGER_OPTIONS[name];
  return integer(name, text, min, max, fallback);
}

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

/** An integer flag within `min..max`, or `fallback` when absent. Throws {@link UsageError}. */
export function integer(
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

/** A number of seconds above 0, or `fallback` when absent. Throws {@link UsageError}. */
export function positive(
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

/** One of `allowed`, or `fallback` when absent. Throws {@link UsageError}. */
export function oneOf<T extends string>(
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

/** `--input` and `--output`, resolved from `cwd` and checked against each other. */
export function readFolders(
  mode: Job["mode"],
  inputText: string | undefined,
  outputText: string | undefined,
  cwd: string,
): { input: string; output: string } {
  if (!inputText) {
    throw new UsageError(
      "missing --input DIR (the folder of images to process)",
    );
  }
  if (!outputText) {
    throw new UsageError("missing --output DIR (where processed images go)");
  }
  const input = resolve(cwd, inputText);
  // `-o -`: the one image goes to standard output (run/plan.ts checks there is one).
  const output = outputText === STDOUT ? STDOUT : resolve(cwd, outputText);
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
  return { input, output };
}

/**
 * The pipeline's steps: `--size` first, then each `--op`; `resize=512x512`
 * when none. `--background`, `--no-enlarge` and `--kernel` apply to every
 * resize step (a step's own `bg=` or kernel wins over the flag's).
 */
export function readSteps(
  size: string | undefined,
  ops: readonly string[],
  resizeOptions: { background?: string; noEnlarge?: boolean; kernel?: string } = {},
): Step[] {
  const steps = readStepList(size, ops);
  const kernel = oneOf<Kernel>("kernel", resizeOptions.kernel, KERNELS, DEFAULT_KERNEL);
  let background: ResizeStep["background"];
  try {
    background = resizeOptions.background === undefined
      ? undefined
      : parseColour(resizeOptions.background);
  } catch (error) {
    if (error instanceof StepError) throw new UsageError(`--background: ${error.message}`);
    throw error;
  }
  return steps.map((step) =>
    step.op !== "resize" ? step : {
      ...step,
      ...(background && !step.background ? { background } : {}),
      ...(resizeOptions.noEnlarge ? { enlarge: false } : {}),
      ...(kernel !== DEFAULT_KERNEL && !step.kernel ? { kernel } : {}),
    }
  );
}

/** The placeholders of `--name`. */
export const NAME_FIELDS = ["name", "ext", "w", "h"] as const;

/**
 * `--name TEMPLATE`: a file name (no folder) made of text and
 * {@link NAME_FIELDS} placeholders, e.g. `{name}_thumb.{ext}`, or null.
 * `{w}` and `{h}` are the size the last resize step of `steps` asks for.
 */
export function readName(template: string | undefined, steps: readonly Step[]): string | null {
  if (template === undefined) return null;
  if (/\{[wh]\}/.test(template) && !steps.some((step) => step.op === "resize")) {
    throw new UsageError(
      `--name "${template}": {w} and {h} need a resize step to take a size from`,
    );
  }
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).find((field) =>
    !(NAME_FIELDS as readonly string[]).includes(field)
  );
  if (unknown !== undefined) {
    throw new UsageError(
      `--name "${template}": unknown field {${unknown}}; use ${
        NAME_FIELDS.map((f) => `{${f}}`).join(", ")
      }`,
    );
  }
  const sample = template.replace(/\{[^}]*\}/g, "x");
  if (/[/\\\0]/.test(template) || sample === "." || sample === ".." || sample.trim() === "") {
    throw new UsageError(
      `--name "${template}" must be a file name (no folder, not empty), e.g. "{name}_thumb.{ext}"`,
    );
  }
  return template;
}

function readStepList(size: string | undefined, ops: readonly string[]): Step[] {
  const steps: Step[] = [];
  try {
    if (size !== undefined) {
      steps.push({ op: "resize", ...parseSize(size), fit: "fill" });
    }
    for (const text of ops) {
      steps.push(parseStep(text));
    }
  } catch (error) {
    if (error instanceof StepError) {
      throw new UsageError(
        `${size !== undefined && !steps.length ? "--size" : "--op"}: ${error.message}`,
      );
    }
    throw error;
  }
  if (steps.length === 0) {
    steps.push({ op: "resize", width: 512, height: 512, fit: "fill" });
  }
  return steps;
}

/** The `--report` files, each ending in .json or .html. */
export function readReports(reports: readonly string[]): readonly string[] {
  for (const report of reports) {
    if (!/\.(json|html?)$/i.test(report)) {
      throw new UsageError(`--report "${report}" must end in .json or .html`);
    }
  }
  return reports;
}

/** `serve --bind`: a tcp:// or ipc:// endpoint, or null. */
export function readBind(bind: string | undefined): string | null {
  if (bind !== undefined && !/^(tcp:\/\/[^:]+:\d+|ipc:\/\/.+)$/.test(bind)) {
    throw new UsageError(
      `--bind must look like tcp://HOST:PORT or ipc://PATH, got "${bind}"`,
    );
  }
  return bind ?? null;
}

/**
 * `worker --shared-fs DIR` (repeatable): each made absolute (from the user's
 * folder) and normalised, duplicates dropped; at most
 * `MAX_SHARED_FOLDERS`. Whether each exists and may be read and written is
 * checked at start-up (`cli/permissions.ts` `requireSharedFolders`).
 */
export function readSharedFolders(
  texts: readonly string[] | undefined,
  local: boolean,
  cwd = Deno.cwd(),
): string[] {
  if (!texts?.length) return [];
  if (local) throw new UsageError("--shared-fs is for remote workers: a local one gets paths");
  const folders = [
    ...new Set(texts.map((text) => {
      if (text.trim() === "") throw new UsageError("--shared-fs needs a folder");
      return resolve(cwd, text);
    })),
  ];
  if (folders.length > MAX_SHARED_FOLDERS) {
    throw new UsageError(`--shared-fs: at most ${MAX_SHARED_FOLDERS} folders`);
  }
  return folders;
}

/** node:util parseArgs' error, as one line about the flag. */
export function cleanParseError(error: unknown): string {
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

/**
 * A resize other than `inside` makes exactly WxH: one over `--max-pixels`
 * would fail every image, so it is a usage error. `sized`: the first step
 * came from `--size`.
 */
export function checkResizeSizes(
  steps: readonly Step[],
  maxPixels: number,
  sized: boolean,
): void {
  for (const [i, step] of steps.entries()) {
    if (step.op !== "resize" || step.fit === "inside") continue;
    const pixels = step.width * step.height;
    if (pixels > maxPixels) {
      const flag = i === 0 && sized
        ? `--size ${step.width}x${step.height}`
        : `--op ${formatStep(step)}`;
      throw new UsageError(
        `${flag} makes ${step.width}x${step.height} = ${
          overPixelLimit(pixels, maxPixels)
        } (--max-pixels): ask for a smaller size or raise --max-pixels`,
      );
    }
  }
}

/**
 * The validated, serialisable description of one run. The CLI
 * (`cli/args.ts`) is the only producer; the runners only read it.
 *
 * @module
 */

import type { Step } from "../ops/pipeline.ts";
import type { WritableFormat } from "../ops/formats.ts";

/**
 * The most tasks a worker may hold and one message may carry (`--batch`'s
 * ceiling; the protocol's `tasks` and `results`): a batch's header stays far
 * below the largest header a peer accepts (1 MiB).
 */
export const MAX_BATCH = 64;

/** `--output -`: the one image goes to standard output. */
export const STDOUT = "-";

/**
 * Output format: `same` keeps each input's format (where it cannot be written, the format
 * `ops/formats.ts`'s table names: HEIC as JPEG, GIF as PNG), or a writable format of the table.
 */
export type OutputFormat = "same" | WritableFormat;

/** Which JPEG encoder writes JPEG outputs. */
export type Encoder = "fast" | "mozjpeg";

/** What a worker needs to turn one input into one output; sent once per worker. */
export interface Pipeline {
  /** Operations, applied in order. */
  steps: Step[];
  /** Output format. */
  format: OutputFormat;
  /** JPEG quality, 1..100. */
  quality: number;
  /** JPEG encoder. */
  encoder: Encoder;
  /** Images with more pixels than this are refused before decoding. */
  maxPixels: number;
  /** `--keep-icc`: keep each input's pixels and ICC profile instead of converting to sRGB. */
  keepIcc?: boolean;
  /**
   * `--keep-metadata`: copy each input's EXIF (orientation reset to 1 where zpix turned the
   * pixels), XMP and the ICC profile that describes the output's pixels into the output.
   */
  keepMetadata?: boolean;
}

/** How the run reports on itself. */
export type LogFormat = "text" | "json";

/** A whole run, as parsed from the command line. */
export interface Job {
  /** `sequential` runs in-process; `parallel` and `serve` use ZeroMQ workers. */
  mode: "sequential" | "parallel" | "serve";
  /** Absolute input folder. */
  input: string;
  /**
   * One input file named by `--input FILE` (relative to `input`, its folder), or null: every
   * file of `input` that matches `pattern`.
   */
  only: string | null;
  /** Absolute output folder (created if missing), or `-`: the one image goes to standard output. */
  output: string;
  /**
   * Output name template (`--name`): `{name}` the input's name without its extension, `{ext}`
   * the output format's extension, `{w}` and `{h}` the size the last resize step asks for; null:
   * the input's name with the output format's extension.
   */
  name: string | null;
  /** List what would be written, skipped and refused, and write nothing. */
  dryRun: boolean;
  /** Glob matched against paths relative to `input`; null means every .jpg/.jpeg/.png, any case. */
  pattern: string | null;
  /** Whether sub-folders are walked (and mirrored in the output). */
  recursive: boolean;
  /** What each worker does to each image. */
  pipeline: Pipeline;
  /** Local worker processes (parallel/serve). */
  workers: number;
  /** Task endpoint to bind (serve), or null for a private ipc:// folder. */
  bind: string | null;
  /** Shared secret remote workers must present (serve), or null. */
  token: string | null;
  /**
   * Most image payloads held for remote workers at once (serve `--payload-window N`, a count);
   * 0 when the window is a size (a job is plain data: it travels to workers as JSON).
   */
  payloadWindow: number;
  /**
   * Most bytes of remote payloads held at once (serve `--payload-window SIZE`): inputs read
   * and not yet answered, outputs not yet written; 0 when the window is a count.
   */
  payloadWindowBytes: number;
  /**
   * `serve --shared-fs`: send paths, not bytes, to remote workers that name folders holding
   * the input and output folders and prove they see the same files (docs/distributed.md).
   */
  sharedFs?: boolean;
  /** CURVE key-pair file of the server (serve, `zpix keygen`), or null: no encryption. */
  curveSecret: string | null;
  /** Report files to write (`.json` or `.html`). */
  reports: string[];
  /** No progress output. */
  quiet: boolean;
  /** More detail on stderr. */
  verbose: boolean;
  /** Text for people or one JSON object per line for scripts. */
  logFormat: LogFormat;
  /** Skip inputs whose output already exists. */
  skipExisting: boolean;
  /** Seconds one task may take before its worker is replaced. */
  taskTimeout: number;
  /** Recycle a worker after this many tasks (0: never). */
  maxTasksPerWorker: number;
  /** Tasks a worker may hold beyond the one it works on (0: one at a time). */
  prefetch: number;
  /** Most tasks a batching worker is granted at once and holds (1: no batches). */
  batch: number;
  /** Attempts per image before it is failed (worker crashes, timeouts). */
  maxAttempts: number;
}

/** One image to process, with paths relative to the job's folders. */
export interface Task {
  /** Position in the sorted input list; stable across modes. */
  index: number;
  /** Input path relative to `job.input`, with `/` separators. */
  input: string;
  /** Output path relative to `job.output`. */
  output: string;
}

/** Most `worker --shared-fs` folders one worker may name (and announce in its `join`). */
export const MAX_SHARED_FOLDERS = 16;

/** Options of the `worker` subcommand. */
export interface WorkerOptions {
  /** Task endpoint of the server (the broadcast endpoint is derived from it). */
  connect: string;
  /** Shared secret for the server, or null. */
  token: string | null;
  /** How many worker processes to run on this machine. */
  processes: number;
  /** Wait for the next server after a run ends instead of exiting. */
  persist: boolean;
  /** Worker id, set by a local server for its own workers. */
  id: string | null;
  /** Whether this worker may be handed file paths (same machine as the server). */
  local: boolean;
  /**
   * `--shared-fs DIR`: absolute, normalised folders on a file system the server shares, the
   * only ones this worker reads inputs from and writes outputs to when sent paths (none when absent).
   */
  sharedFs?: string[];
  /** Seconds of server silence after which the worker exits. */
  serverTimeout: number;
  /** Exit after this many tasks (0: never); the server starts a fresh one. */
  maxTasks: number;
  /** Tasks to ask for at once (`--batch`; 1: one at a time, no batches). */
  batch: number;
  /** The server's CURVE public key, or a file holding it (main.ts resolves it), or null. */
  curveServerKey: string | null;
  /**
   * Leave (as on SIGTERM) once the process that started this one is gone:
   * set by `worker --processes` for its children, so none outlives it.
   */
  exitWithParent: boolean;
}

/**
 * What processing produces, as plain data shared by the rooms: stage
 * timings and the summary of one image, the outcome of a task, a worker's
 * span of work and a CPU sample (what the report is built from).
 *
 * @module
 */

/** Milliseconds spent in each stage of one task. */
export interface Timings {
  /** Reading the input file (0 when bytes came over the wire). */
  read: number;
  /** Decoding. */
  decode: number;
  /** All pipeline steps together. */
  ops: number;
  /** Each step, keyed by its `--op` text. */
  steps: Record<string, number>;
  /** Encoding. */
  encode: number;
  /** Writing the output (0 when bytes go back over the wire). */
  write: number;
}

/** What a result reports of an encoded image (everything but its bytes). */
export interface Summary {
  /** Output size in pixels. */
  width: number;
  /** Output size in pixels. */
  height: number;
  /** Output file size in bytes. */
  bytes: number;
  /** Non-fatal notes. */
  warnings: string[];
  /** Stage timings in ms. */
  timings: Timings;
}

/** What became of one task. */
export type Outcome = ({ ok: true } & Summary) | { ok: false; error: string };

/** One span of work on a worker, for timelines. */
export interface Span {
  /** Task index. */
  task: number;
  /** Start, ms. */
  start: number;
  /** End, ms. */
  end: number;
  /** Whether it succeeded; null when the worker was lost during it. */
  ok: boolean | null;
  /** The task's input path, relative to `--input` (set in reports; older reports lack it). */
  input?: string;
}

/** Busy fraction (0..1) of each core over one sampling interval. */
export interface CpuSample {
  /** Seconds since the run started, at the end of the interval. */
  t: number;
  /** Busy fraction per core: the whole machine's, every program's use. */
  cores: number[];
  /**
   * CPU seconds (user + system, all threads) the zpix server process itself
   * used over the interval; absent in older reports.
   */
  server?: number;
}

/** Least seconds between two kept points of a worker's reported CPU time (`WorkerReport.cpuTime`). */
export const CPU_POINT_SECONDS = 0.25;

/**
 * The schema of every message, checked when it is decoded: a header that
 * does not match is a {@link SchemaError}, so no handler ever sees a field
 * of the wrong type, a number that is not a finite count, or text that could
 * forge a log line. A valid message is rebuilt from the fields its type
 * names, and nothing else: unknown fields never reach a handler, the report
 * or the disk. Text a peer chooses (host names, errors, warnings) is made
 * printable and bounded here too ({@link printable}).
 *
 * The checks are a few `typeof` tests a message: no measurable cost next to
 * `JSON.parse` of the same header.
 *
 * @module
 */

import { WRITABLE_FORMATS } from "../ops/formats.ts";
import { MAX_BATCH, MAX_SHARED_FOLDERS } from "../core/job.ts";

/** A header that does not match its type's schema. */
export class SchemaError extends Error {
  override name = "SchemaError";
}

/** Longest host name a worker may give (DNS names are at most 253 characters). */
export const MAX_HOST = 255;
/** Longest token a worker may present. */
export const MAX_TOKEN = 1024;
/** Longest error, warning, reason or image name, in characters; longer ones are cut. */
export const MAX_TEXT = 2000;
/** Most warnings one result may carry. */
export const MAX_WARNINGS = 64;
/** Most pipeline steps (timings per step, steps in a hello). */
export const MAX_STEPS = 4096;

// C0 and C1 controls (ESC starts every ANSI escape), DEL, and the Unicode bidi/line controls.
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` made safe for one log line: every control character (newline, ESC
 * of an ANSI escape, bidi override) shown as `\uXXXX`, at most `max`
 * characters (the rest cut, with `…`). Cheap when there is nothing to do.
 */
export function printable(text: string, max = MAX_TEXT): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const clean = cut.replace(
    UNPRINTABLE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return cut.length < text.length ? `${clean}…` : clean;
}

/** Raw bytes a peer chose (a routing id) as printable text for a log line. */
export function printableId(bytes: Uint8Array, max = 64): string {
  return printable(new TextDecoder().decode(bytes.subarray(0, max * 4)), max);
}

type Fields = Record<string, unknown>;

function fail(type: string, field: string, what: string): never {
  throw new SchemaError(`${type}: ${field} must be ${what}`);
}

/** A whole number in 0..2^53. */
export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function count(m: Fields, type: string, field: string, min = 0): number {
  const value = m[field];
  if (!isCount(value) || value < min) fail(type, field, `a whole number >= ${min}`);
  return value;
}

function ms(value: unknown, type: string, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(type, field, "a duration in ms (a finite number >= 0)");
  }
  return value;
}

function bool(m: Fields, type: string, field: string): boolean {
  const value = m[field];
  if (typeof value !== "boolean") fail(type, field, "true or false");
  return value;
}

function text(m: Fields, type: string, field: string, max = MAX_TEXT): string {
  const value = m[field];
  if (typeof value !== "string") fail(type, field, "a string");
  return printable(value, max);
}

function pathOrNull(m: Fields, type: string, field: string): string | null {
  const value = m[field];
  if (value === null) return null;
  if (typeof value !== "string" || value.length > MAX_PATH) fail(type, field, "a path or null");
  return value;
}

/** Longest path in a message (Linux's PATH_MAX). */
export const MAX_PATH = 4096;

/** A `--shared-fs` field: absent, or a short list of paths (`join`'s `sharedFs`). */
function foldersOf(value: unknown): { sharedFs?: string[] } {
  if (value === undefined) return {};
  if (
    !Array.isArray(value) || value.length > MAX_SHARED_FOLDERS ||
    !value.every((p) => typeof p === "string" && p.length > 0 && p.length <= MAX_PATH)
  ) {
    fail("join", "sharedFs", `an array of at most ${MAX_SHARED_FOLDERS} paths`);
  }
  return { sharedFs: [...value] };
}

/** An object of short strings named `keys` (a probe, a proof), rebuilt from them alone. */
function strings<K extends string>(
  value: unknown,
  type: string,
  field: string,
  keys: readonly K[],
  max: number,
): Record<K, string> {
  const m = value as Fields | null;
  if (typeof m !== "object" || m === null || Array.isArray(m)) fail(type, field, "an object");
  const out = {} as Record<K, string>;
  for (const key of keys) {
    const s = m[key];
    if (typeof s !== "string" || s.length > max) {
      fail(type, `${field}.${key}`, `a string of at most ${max} characters`);
    }
    out[key] = s;
  }
  return out;
}

function timingsOf(value: unknown) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("result", "timings", "an object");
  }
  const t = value as Fields;
  const steps = t.steps;
  if (typeof steps !== "object" || steps === null || Array.isArray(steps)) {
    fail("result", "timings.steps", "an object");
  }
  const outSteps: Record<string, number> = {};
  let n = 0;
  for (const [key, value] of Object.entries(steps)) {
    if (++n > MAX_STEPS) fail("result", "timings.steps", `at most ${MAX_STEPS} entries`);
    // A key such as "__proto__" or "constructor" would reach into the objects timings go to.
    if (key in Object.prototype) fail("result", "timings.steps", "keyed by step texts");
    outSteps[printable(key, 200)] = ms(value, "result", "timings.steps");
  }
  return {
    read: ms(t.read, "result", "timings.read"),
    decode: ms(t.decode, "result", "timings.decode"),
    ops: ms(t.ops, "result", "timings.ops"),
    steps: outSteps,
    encode: ms(t.encode, "result", "timings.encode"),
    write: ms(t.write, "result", "timings.write"),
  };
}

function warningsOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_WARNINGS) {
    fail("result", "warnings", `an array of at most ${MAX_WARNINGS} strings`);
  }
  return value.map((w) => {
    if (typeof w !== "string") fail("result", "warnings", "an array of strings");
    return printable(w);
  });
}

/** Field `field` of `m`: a whole number in `min`..{@link MAX_BATCH}. */
function batchCount(m: Fields, type: string, field: string, min: number): number {
  const value = m[field];
  if (!isCount(value) || value < min || value > MAX_BATCH) {
    fail(type, field, `a whole number in ${min}..${MAX_BATCH}`);
  }
  return value;
}

/** Field `field` of `m`: an array of 1..{@link MAX_BATCH} objects. */
function entries(m: Fields, type: string, field: string): Fields[] {
  const value = m[field];
  if (
    !Array.isArray(value) || value.length < 1 || value.length > MAX_BATCH ||
    !value.every((entry) => typeof entry === "object" && entry !== null && !Array.isArray(entry))
  ) {
    fail(type, field, `an array of 1 to ${MAX_BATCH} objects`);
  }
  return value;
}

/** A task's outcome (`ResultEntry`): its task, attempt, and what came of it. */
function outcomeOf(m: Fields, type: string) {
  const base = { task: count(m, type, "task"), attempt: count(m, type, "attempt", 1) };
  if (m.ok === false) return { ...base, ok: false as const, error: text(m, type, "error") };
  if (m.ok !== true) fail(type, "ok", "true or false");
  if (!(WRITABLE_FORMATS as readonly unknown[]).includes(m.format)) {
    fail(type, "format", `one of ${WRITABLE_FORMATS.join(", ")}`);
  }
  return {
    ...base,
    ok: true as const,
    width: count(m, type, "width"),
    height: count(m, type, "height"),
    bytes: count(m, type, "bytes"),
    warnings: warningsOf(m.warnings),
    timings: timingsOf(m.timings),
    format: m.format,
  };
}

/**
 * Checks that a message came with as many payload frames as it may: a
 * `tasks` none or one a task, a `results` none or one a success, any other
 * message at most one. Throws {@link SchemaError}.
 */
export function checkPayloads(message: Fields, payloads: number): void {
  const batch = message.type === "tasks" || message.type === "results";
  const expected = message.type === "tasks"
    ? (message.tasks as unknown[]).length
    : message.type === "results"
    ? (message.results as Fields[]).filter((entry) => entry.ok === true).length
    : 1;
  if (payloads !== 0 && (batch ? payloads !== expected : payloads > 1)) {
    fail(String(message.type), "payload frames", batch ? `none or ${expected}` : "at most one");
  }
}

/**
 * Checks a worker message's fields (after `v` and `type`, which the decoder
 * checked) and returns it rebuilt from them alone. Throws {@link SchemaError}.
 */
export function workerMessageOf(type: string, m: Fields): Fields {
  switch (type) {
    case "join": {
      const token = m.token;
      if (token !== null && (typeof token !== "string" || token.length > MAX_TOKEN)) {
        fail(type, "token", `null or a string of at most ${MAX_TOKEN} characters`);
      }
      if (typeof m.host !== "string" || m.host.length > MAX_HOST) {
        fail(type, "host", `a string of at most ${MAX_HOST} characters`);
      }
      return {
        type,
        pid: count(m, type, "pid"),
        host: printable(m.host, MAX_HOST),
        local: bool(m, type, "local"),
        token,
        ...foldersOf(m.sharedFs),
      };
    }
    case "ready":
      return {
        type,
        ...(m.finishing === undefined ? {} : { finishing: count(m, type, "finishing") }),
        ...(m.want === undefined ? {} : { want: batchCount(m, type, "want", 1) }),
        ...(m.probe === undefined
          ? {}
          : { probe: strings(m.probe, type, "probe", ["token", "sha256"], 128) }),
      };
    case "result":
      return {
        type,
        more: bool(m, type, "more"),
        // The worker process's cumulative CPU ms, for the report (optional).
        ...(m.cpu === undefined ? {} : { cpu: ms(m.cpu, type, "cpu") }),
        ...outcomeOf(m, type),
      };
    case "results": {
      const tasks = new Set<number>();
      return {
        type,
        results: entries(m, type, "results").map((entry) => {
          const outcome = outcomeOf(entry, "results[]");
          if (tasks.size === tasks.add(outcome.task).size) fail(type, "results", "each task once");
          return outcome;
        }),
        want: batchCount(m, type, "want", 0),
        ...(m.cpu === undefined ? {} : { cpu: ms(m.cpu, type, "cpu") }),
      };
    }
    default: // heartbeat, leave: no field
      return { type };
  }
}

/** A task's fields (`TaskEntry`), alone or in a `tasks` grant. */
function taskOf(m: Fields, type: string) {
  return {
    task: count(m, type, "task"),
    attempt: count(m, type, "attempt", 1),
    name: text(m, type, "name", 4096),
    input: pathOrNull(m, type, "input"),
    output: pathOrNull(m, type, "output"),
  };
}

/** Absent, or a boolean (the pipeline's optional flags). */
function optionalFlag(value: unknown): boolean {
  return value === undefined || typeof value === "boolean";
}

/**
 * Checks a server message's fields and returns it rebuilt from them alone
 * (a worker's side of {@link workerMessageOf}). The pipeline is checked for
 * its shape here; its steps are checked where they are applied.
 */
export function serverMessageOf(type: string, m: Fields): Fields {
  switch (type) {
    case "hello": {
      const p = m.pipeline as Fields | null;
      if (
        typeof p !== "object" || p === null || !Array.isArray(p.steps) ||
        p.steps.length > MAX_STEPS || typeof p.format !== "string" ||
        typeof p.quality !== "number" || typeof p.encoder !== "string" || !isCount(p.maxPixels) ||
        !optionalFlag(p.keepIcc) || !optionalFlag(p.keepMetadata)
      ) {
        fail(
          type,
          "pipeline",
          "a pipeline (steps, format, quality, encoder, maxPixels, optional keepIcc/keepMetadata)",
        );
      }
      return {
        type,
        worker: text(m, type, "worker", 300),
        pipeline: p,
        ...(m.probe === undefined
          ? {}
          : { probe: strings(m.probe, type, "probe", ["token", "input"], MAX_PATH) }),
      };
    }
    case "refused":
      return m.rejoin === true
        ? { type, reason: text(m, type, "reason"), rejoin: true }
        : { type, reason: text(m, type, "reason") };
    case "tasks":
      return { type, tasks: entries(m, type, "tasks").map((entry) => taskOf(entry, type)) };
    default: // task
      return { type, ...taskOf(m, type) };
  }
}

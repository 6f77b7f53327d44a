/**
 * `--dry-run`: what a run would do, and nothing done. Each input gets one
 * line on stdout: `write OUT`, `skip OUT (exists)` with `--skip-existing`,
 * or `refuse IN: why` when its first bytes already say that the run would
 * fail it (not an image zpix reads, a header cut short, more pixels than
 * `--max-pixels`). Then one summary line. No folder is made, no file
 * written, no worker started.
 *
 * @module
 */

import { join } from "node:path";
import type { Job, Task } from "../core/job.ts";
import { describeUnknown, readDimensions } from "../ops/formats.ts";
import { overPixelLimit } from "../ops/defaults.ts";

/** How much of each input is read to judge it: headers sit in the first bytes. */
const HEAD_BYTES = 256 * 1024;

/** What a run would do with one input. */
export type DryRunVerdict =
  | { kind: "write"; task: Task }
  | { kind: "skip"; task: Task }
  | { kind: "refuse"; task: Task; why: string };

/** Reads the start of `path` (the whole file when it is shorter). */
async function head(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const buffer = new Uint8Array(HEAD_BYTES);
  let filled = 0;
  while (filled < buffer.length) {
    const read = await file.read(buffer.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return buffer.subarray(0, filled);
}

/** Why a run would refuse an input, judged from its first bytes, or null. */
export async function refusal(path: string, maxPixels: number): Promise<string | null> {
  let bytes: Uint8Array;
  try {
    bytes = await head(path);
  } catch (error) {
    return `cannot read it: ${(error as Error).message}`;
  }
  if (bytes.length === 0) return "empty file";
  const size = readDimensions(bytes);
  if (!size) {
    return describeUnknown(bytes).startsWith("not a") ? describeUnknown(bytes) : null;
  }
  const pixels = size.width * size.height;
  // The decoder's own words (ops/codec.ts), so a dry run and a real run say the same.
  return pixels > maxPixels
    ? `image is ${size.width}x${size.height} = ${overPixelLimit(pixels, maxPixels)} (--max-pixels)`
    : null;
}

/** The verdict on every task: `exists` says which outputs are there already. */
export async function judge(
  job: Job,
  tasks: readonly Task[],
  exists: (task: Task) => Promise<boolean>,
): Promise<DryRunVerdict[]> {
  const verdicts: DryRunVerdict[] = [];
  for (const task of tasks) {
    if (job.skipExisting && await exists(task)) {
      verdicts.push({ kind: "skip", task });
      continue;
    }
    const why = await refusal(join(job.input, task.input), job.pipeline.maxPixels);
    verdicts.push(why === null ? { kind: "write", task } : { kind: "refuse", task, why });
  }
  return verdicts;
}

/** The lines a dry run prints: one per input, then the summary. */
export function dryRunLines(job: Job, verdicts: readonly DryRunVerdict[]): string[] {
  const out = (task: Task) =>
    job.output === "-" ? "(standard output)" : join(job.output, task.output);
  const lines = verdicts.map((v) =>
    v.kind === "write"
      ? `write ${out(v.task)} (from ${v.task.input})`
      : v.kind === "skip"
      ? `skip ${out(v.task)} (exists)`
      : `refuse ${v.task.input}: ${v.why}`
  );
  const count = (kind: DryRunVerdict["kind"]) => verdicts.filter((v) => v.kind === kind).length;
  lines.push(
    `dry run: ${count("write")} to write, ${count("skip")} to skip, ${count("refuse")} refused; ` +
      "nothing was written",
  );
  return lines;
}

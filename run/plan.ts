/**
 * Planning a run: checking the folders, listing the inputs and naming each
 * output. Every usage problem is found here, before anything is written.
 *
 * @module
 */

import { extname, isAbsolute, join, relative } from "node:path";
import type { Job, OutputFormat, Task } from "../core/job.ts";
import { UsageError } from "../core/errors.ts";
import { EXTENSIONS, outputExtension } from "../ops/formats.ts";

/** The default pattern: every .jpg, .jpeg and .png file (the formats table's extensions), any case. */
export const DEFAULT_PATTERN = `*.{${EXTENSIONS.join(",")}}`;

const DEFAULT_MATCH = new RegExp(`(?:^|\\/)(?!\\.)[^/]*\\.(?:${EXTENSIONS.join("|")})$`, "i");

/**
 * Whether a relative path matches {@link DEFAULT_PATTERN} in any letter case,
 * as picomatch matches it with `nocase` and `basename` (no name starting with
 * a dot): a plain test, so that a run with the default pattern does not load
 * picomatch (a CommonJS package: ~40 ms of a process's start-up here).
 * `plan_test.ts` checks it against picomatch.
 */
export function matchesDefault(rel: string): boolean {
  return DEFAULT_MATCH.test(rel);
}

/** Output extension for a format, or the input's own for `same`. */
export function outputName(input: string, format: OutputFormat): string {
  if (format === "same") return input;
  const ext = extname(input);
  const base = ext ? input.slice(0, -ext.length) : input;
  return base + outputExtension(format);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function* walk(
  root: string,
  dir: string,
  recursive: boolean,
): AsyncGenerator<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) entries.push(entry);
  for (const entry of entries) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (
      entry.isFile || (entry.isSymlink && !(await isDirectory(join(root, rel))))
    ) yield rel;
    else if (recursive && entry.isDirectory) yield* walk(root, rel, recursive);
  }
}

/**
 * Lists the job's inputs, sorted, with their output names. Throws
 * {@link UsageError} for a missing input folder, no matching image, an
 * output folder that is a file, or two inputs that would write one output.
 */
export async function planTasks(job: Job): Promise<Task[]> {
  let inputIsDir: boolean;
  try {
    inputIsDir = await isDirectory(job.input);
  } catch (error) {
    throw new UsageError(
      `cannot read --input ${job.input}: ${(error as Error).message}`,
    );
  }
  if (!inputIsDir) throw new UsageError(`--input ${job.input} is not a folder`);
  try {
    const stat = await Deno.stat(job.output);
    if (!stat.isDirectory) {
      throw new UsageError(`--output ${job.output} exists and is not a folder`);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`--output ${job.output}: part of that path is a file, not a folder`);
    }
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }

  const pattern = job.pattern ?? DEFAULT_PATTERN;
  const matches = job.pattern === null
    ? matchesDefault
    : (await import("picomatch")).default(pattern, { basename: !pattern.includes("/") });
  // An output folder inside the input folder must not be read back as input.
  const outputRoot = relative(job.input, job.output);
  const outputInside = outputRoot !== ".." && !outputRoot.startsWith("../") &&
    !isAbsolute(outputRoot);
  const inputs: string[] = [];
  try {
    for await (const rel of walk(job.input, "", job.recursive)) {
      if (outputInside && rel.startsWith(outputRoot + "/")) continue;
      if (matches(rel)) inputs.push(rel);
    }
  } catch (error) {
    throw new UsageError(
      `cannot list --input ${job.input}: ${(error as Error).message}`,
    );
  }
  if (inputs.length === 0) {
    throw new UsageError(
      `no image in ${job.input} matches ${
        job.pattern === null ? DEFAULT_PATTERN + " (any case)" : `--pattern "${pattern}"`
      }` +
        (job.recursive ? "" : " (add --recursive for sub-folders)"),
    );
  }
  inputs.sort();
  const outputs = new Map<string, string>();
  const tasks: Task[] = [];
  for (const input of inputs) {
    const output = outputName(input, job.pipeline.format);
    const clash = outputs.get(output);
    if (clash) {
      throw new UsageError(
        `${clash} and ${input} would both write ${output}: use --format same`,
      );
    }
    outputs.set(output, input);
    tasks.push({ index: tasks.length, input, output });
  }
  return tasks;
}

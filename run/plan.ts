/**
 * Planning a run: checking the folders, listing the inputs and naming each
 * output. Every usage problem is found here, before anything is written.
 *
 * @module
 */

import { basename, dirname, extname, isAbsolute, join, relative } from "node:path";
import { type Job, type OutputFormat, STDOUT, type Task } from "../core/job.ts";
import type { Step } from "../ops/pipeline.ts";
import { UsageError } from "../core/errors.ts";
import { importNpm } from "../ops/npm.ts";
import { EXTENSIONS, formatOfExtension, outputExtension, sameFormat } from "../ops/formats.ts";

/** The default pattern: every extension of the formats table (.jpg, .png, .webp, ...), any case. */
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

/** `--pattern` `*` or `*.EXT` (letters, digits, `_`, `-`; matched in its case). */
const PLAIN_PATTERN = /^\*(\.[A-Za-z0-9_-]+)?$/;

/**
 * A plain test for `--pattern "*"` or `"*.EXT"` as picomatch matches it with
 * `basename` (a nonempty name not starting with a dot, ending with `.EXT` if
 * given, in its case), or null for any other pattern: the common patterns
 * need no picomatch, whose load (the first npm module of a run: CommonJS and
 * Deno's npm layer) was 15 ms of a sequential run's ~60 ms start-up here.
 * `plan_test.ts` checks it against picomatch.
 */
export function plainMatcher(pattern: string): ((rel: string) => boolean) | null {
  const plain = PLAIN_PATTERN.exec(pattern);
  if (!plain) return null;
  const ext = plain[1] ? plain[1].replace(".", "\\.") : "";
  const re = new RegExp(`(?:^|\\/)(?!\\.)[^/]${ext ? "*" : "+"}${ext}$`);
  return (rel) => re.test(rel);
}

/**
 * The output path (relative to `--output`) for an input path (relative to
 * `--input`): the same folder, then the `--name` template filled in (see
 * `Job.name`), or the input's name with the format's extension (`same`: the
 * input's own name, except for inputs whose format cannot be written, HEIC
 * and GIF, which take the extension of the format the table writes for
 * them, so that names never lie).
 */
export function outputName(
  input: string,
  format: OutputFormat,
  template: string | null = null,
  steps: readonly Step[] = [],
): string {
  const ext = extname(input);
  const base = ext ? input.slice(0, -ext.length) : input;
  const named = format === "same" ? formatOfExtension(input) : null;
  const newExt = format !== "same"
    ? outputExtension(format)
    : named && sameFormat(named) !== named
    ? outputExtension(sameFormat(named))
    : ext;
  if (template === null) return base + newExt;
  const resize = steps.findLast((step) => step.op === "resize");
  const fields: Record<string, string> = {
    name: basename(base),
    ext: newExt.replace(/^\./, ""),
    w: resize ? String(resize.width) : "",
    h: resize ? String(resize.height) : "",
  };
  const folder = dirname(input);
  const name = template.replace(/\{(\w+)\}/g, (_, field: string) => fields[field]);
  return folder === "." ? name : `${folder}/${name}`;
}

/**
 * `--input FILE`: the same job with `input` the file's folder and `only` its
 * name. A job whose `--input` is not a file is returned as it is (planning
 * says what is wrong with it), but `--output -` needs one input file.
 */
export async function resolveInputFile(job: Job): Promise<Job> {
  const isFile = await Deno.stat(job.input).then((stat) => stat.isFile, () => false);
  if (!isFile) {
    if (job.output === STDOUT) {
      throw new UsageError(
        "--output - writes one image to standard output: --input must be a file",
      );
    }
    return job;
  }
  return { ...job, input: dirname(job.input), only: basename(job.input) };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * `path` with every symlink resolved: the real path of its longest part that
 * exists, with the rest (folders yet to be made) appended. A dangling
 * symlink is a usage error: what it would make is not known.
 */
async function realPathOf(path: string, flag: string): Promise<string> {
  const rest: string[] = [];
  for (let at = path;;) {
    try {
      return join(await Deno.realPath(at), ...rest);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (await Deno.lstat(at).then((stat) => stat.isSymlink, () => false)) {
        throw new UsageError(`${flag} ${path}: ${at} is a symlink to nothing`);
      }
      const parent = dirname(at);
      if (parent === at) return path;
      rest.unshift(basename(at));
      at = parent;
    }
  }
}

/**
 * What identifies an existing folder whatever the path taken to it
 * (symlinks, bind mounts): its device and inode, or its real path where the
 * system gives no inode; null when it does not exist.
 */
async function folderKey(path: string): Promise<string | null> {
  try {
    const stat = await Deno.stat(path);
    return stat.ino !== null ? `${stat.dev}:${stat.ino}` : await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/** Whether a path from `relative(root, path)` leads inside `root` (not up, not elsewhere). */
function leadsInside(rel: string): boolean {
  return rel !== "" && rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel);
}

/**
 * The files under `root/dir`, as paths relative to `root` (sub-folders too with `recursive`).
 * Synchronous: a folder is read in one call either way, and the async iteration and generator
 * cost a server ~4 ms of CPU a thousand files while its workers start (docs/performance.md, "Local
 * workers, a ninth session").
 */
function walk(root: string, dir: string, recursive: boolean, out: string[] = []): string[] {
  // Read whole before going down: one open folder at a time.
  for (const entry of [...Deno.readDirSync(join(root, dir))]) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isFile || (entry.isSymlink && !isDirectorySync(join(root, rel)))) out.push(rel);
    else if (recursive && entry.isDirectory) walk(root, rel, recursive, out);
  }
  return out;
}

function isDirectorySync(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
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
  if (!inputIsDir) throw new UsageError(`--input ${job.input} is not a folder or a file`);
  // `--output -` writes to no folder: nothing of it to check against the inputs.
  const toFolder = job.output !== STDOUT;
  if (toFolder) await checkOutputFolder(job.output);
  // Compared after following symlinks: an --output that is (or lies under) a link must not lead
  // back onto the inputs. With one file as --input, its folder is the input folder.
  const realInput = await Deno.realPath(job.input);
  const realOutput = toFolder ? await realPathOf(job.output, "--output") : null;
  if (
    realOutput !== null &&
    (realOutput === realInput || (await folderKey(job.output)) === (await folderKey(job.input)))
  ) {
    throw new UsageError(
      `--output ${job.output} is --input ${job.input} once ${
        realOutput === realInput
          ? `symlinks are followed (both are ${realInput})`
          : "mounts are followed (the same folder: a bind mount?)"
      }: zpix never overwrites its inputs`,
    );
  }
  if (job.only !== null) return await checkNoInputOverwritten(job, nameTasks(job, [job.only]));

  const pattern = job.pattern ?? DEFAULT_PATTERN;
  const matches = job.pattern === null ? matchesDefault : plainMatcher(pattern) ??
    (await importNpm<typeof import("picomatch")>("picomatch")).default(pattern, {
      basename: !pattern.includes("/"),
    });
  // An output folder inside the input folder must not be read back as input.
  // Checked as written and as resolved: either may be the one that leads inside.
  const inside = realOutput === null
    ? []
    : [relative(job.input, job.output), relative(realInput, realOutput)].filter(leadsInside);
  const inputs: string[] = [];
  try {
    for (const rel of walk(job.input, "", job.recursive)) {
      if (inside.some((root) => rel.startsWith(root + "/"))) continue;
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
  return await checkNoInputOverwritten(job, nameTasks(job, inputs.sort()));
}

/**
 * No output may land on an input, whatever links or mounts lie on its way (a
 * link to --input, one in --output's tree, --input inside --output with
 * --recursive): folders are compared by what they are (folderKey), not by
 * the path to them. Throws {@link UsageError}; returns `tasks`.
 */
async function checkNoInputOverwritten(job: Job, tasks: Task[]): Promise<Task[]> {
  if (job.output === STDOUT) return tasks;
  // Each folder's key once; the tasks one by one only when an output folder is an input folder,
  // which it usually is not (~7 ms of CPU a thousand tasks saved at start-up).
  const inputKeys = await folderKeys(job.input, tasks.map((task) => task.input));
  const outputKeys = await folderKeys(job.output, tasks.map((task) => task.output));
  const inputFolders = new Set(inputKeys.values());
  if (![...outputKeys.values()].some((key) => key !== null && inputFolders.has(key))) return tasks;
  const inputAt = new Map<string, string>();
  for (const task of tasks) {
    const key = inputKeys.get(folderOf(task.input));
    if (key) inputAt.set(`${key}/${basename(task.input)}`, task.input);
  }
  for (const task of tasks) {
    // null: a folder yet to be made holds no input
    const key = outputKeys.get(folderOf(task.output));
    const overwritten = !key ? undefined : inputAt.get(`${key}/${basename(task.output)}`);
    if (overwritten !== undefined) {
      const output = join(job.output, task.output);
      throw new UsageError(
        `--output ${job.output} would overwrite the input ${overwritten} with the output of ${task.input} ` +
          `(${output} is ${join(job.input, overwritten)} once symlinks and mounts are followed): ` +
          "zpix never overwrites its inputs",
      );
    }
  }
  return tasks;
}

/** The folder of a path relative to a root (as `walk` and `outputName` make them: "/"-separated). */
function folderOf(rel: string): string {
  const at = rel.lastIndexOf("/");
  return at < 0 ? "." : rel.slice(0, at);
}

/** The {@link folderKey} of each folder (relative to `root`) that holds one of `paths`. */
async function folderKeys(
  root: string,
  paths: readonly string[],
): Promise<Map<string, string | null>> {
  const keys = new Map<string, string | null>();
  for (const path of paths) {
    const folder = folderOf(path);
    if (!keys.has(folder)) keys.set(folder, await folderKey(join(root, folder)));
  }
  return keys;
}

/** An output folder that exists must be a folder. Throws {@link UsageError}. */
async function checkOutputFolder(output: string): Promise<void> {
  try {
    const stat = await Deno.stat(output);
    if (!stat.isDirectory) {
      throw new UsageError(`--output ${output} exists and is not a folder`);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`--output ${output}: part of that path is a file, not a folder`);
    }
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** One task per input, with its output name; two inputs may not write one output. */
function nameTasks(job: Job, inputs: readonly string[]): Task[] {
  if (job.output === STDOUT && inputs.length !== 1) {
    throw new UsageError(
      `--output - writes one image to standard output, but ${inputs.length} inputs match`,
    );
  }
  const outputs = new Map<string, string>();
  const tasks: Task[] = [];
  for (const input of inputs) {
    const output = outputName(input, job.pipeline.format, job.name, job.pipeline.steps);
    const clash = outputs.get(output);
    if (clash) {
      throw new UsageError(
        `${clash} and ${input} would both write ${output}: ${
          job.name !== null
            ? "put {name} in --name"
            : job.pipeline.format === "same"
            ? "rename one of them"
            : "use --format same"
        }`,
      );
    }
    outputs.set(output, input);
    tasks.push({ index: tasks.length, input, output });
  }
  return tasks;
}

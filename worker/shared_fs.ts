/**
 * A remote worker's side of `--shared-fs`: the folders of a file system it
 * shares with its server (mounted at the same paths on both machines), the
 * only place it ever reads inputs from or writes outputs to when a server
 * sends it paths instead of bytes.
 *
 * Every path a server names is checked before anything is read: absolute,
 * normalised (no `.`, `..` or doubled separator), inside one of the folders
 * as written, and inside one of them once symlinks are resolved (the input
 * file itself; an output's nearest existing folder), so a link inside a
 * folder cannot lead out. What is read and written is the resolved path.
 * Any other path is an error result; nothing is read.
 *
 * A task is done like a bytes task: the input is read (at most
 * `MAX_INPUT_BYTES`; synchronously up to {@link SYNC_FILE_BYTES}), its bytes
 * go to the image thread, so heartbeats and signals stay handled during the
 * image's stages, and the output is written atomically (a temporary name
 * beside it, then a rename), so nothing half-written is left.
 *
 * @module
 */

import { basename, dirname, isAbsolute, join, normalize, sep } from "node:path";
import { describeWriteError, writeAtomic, writeAtomicAsync } from "../core/atomic.ts";
import { readStartSync, SYNC_FILE_BYTES } from "../core/read_start.ts";
import { sha256Hex } from "../core/hex.ts";
import {
  MAX_INPUT_BYTES,
  PROBE_HASH_BYTES,
  type ResultMessage,
  type SharedFsProbe,
  type SharedFsProof,
  type TaskMessage,
} from "../transport/protocol.ts";
import type { Pipeline } from "../core/job.ts";
import { summarise } from "../task/task.ts";
import type { ImageThread } from "./image_thread.ts";

/** A path a server named that lies outside the worker's `--shared-fs` folders. */
export class OutsideSharedFolders extends Error {
  override name = "OutsideSharedFolders";
}

/** Longest token file a worker reads for a probe, in bytes. */
const MAX_TOKEN_FILE = 128;

const withSep = (dir: string) => dir.endsWith(sep) ? dir : dir + sep;

/** The `--shared-fs` folders of one worker process, and what it does with paths in them. */
export class SharedFolders {
  /** The folders as named (absolute, normalised), each ending in a separator. */
  readonly #named: string[];
  /** Their real paths (symlinks resolved), each ending in a separator. */
  readonly #real: string[];

  /** @param folders absolute folders that exist (checked by `cli/permissions.ts`) */
  constructor(readonly folders: readonly string[]) {
    this.#named = folders.map((f) => withSep(normalize(f)));
    this.#real = folders.map((f) => withSep(Deno.realPathSync(f)));
  }

  #refuse(path: string): never {
    throw new OutsideSharedFolders(
      `${JSON.stringify(path)} is outside this worker's --shared-fs folders: not read`,
    );
  }

  /** Throws unless `path` is absolute, normalised and, as written, inside a folder. */
  #checkNamed(path: string): void {
    if (
      !isAbsolute(path) || normalize(path) !== path || path.includes("\0") ||
      !this.#named.some((dir) => path.startsWith(dir))
    ) this.#refuse(path);
  }

  /** Whether a resolved folder (or file, `strict`) lies inside a resolved shared folder. */
  #realInside(real: string, strict: boolean): boolean {
    const probe = strict ? real : withSep(real);
    return this.#real.some((dir) =>
      probe.startsWith(dir) && probe.length > (strict ? dir.length : 0)
    );
  }

  /** The real path of input `path`, a file inside the folders; throws otherwise. */
  inputPath(path: string): string {
    this.#checkNamed(path);
    const real = Deno.realPathSync(path);
    if (!this.#realInside(real, true)) this.#refuse(path);
    return real;
  }

  /**
   * Where to write output `path`: its name in the real path of its folder (or,
   * when that folder is still to be made, of its nearest existing ancestor),
   * which must lie inside the folders; throws otherwise.
   */
  outputPath(path: string): string {
    this.#checkNamed(path);
    const rest = [basename(path)];
    for (let dir = dirname(path);; dir = dirname(dir)) {
      if (!this.#named.some((named) => withSep(dir).startsWith(named))) this.#refuse(path);
      try {
        const real = Deno.realPathSync(dir);
        if (!this.#realInside(real, false)) this.#refuse(path);
        return join(real, ...rest);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        rest.unshift(basename(dir));
      }
    }
  }

  /**
   * Answers a server's probe (`hello.probe`): the token file's text and the
   * SHA-256 of the input's first `PROBE_HASH_BYTES`, both read only inside the
   * folders. Never throws: `{ error }` says why it cannot answer.
   */
  async prove(probe: SharedFsProbe): Promise<{ proof: SharedFsProof } | { error: string }> {
    try {
      const token = new TextDecoder().decode(
        readStartSync(this.inputPath(probe.token), MAX_TOKEN_FILE)!,
      );
      const head = readStartSync(this.inputPath(probe.input), PROBE_HASH_BYTES)!;
      return { proof: { token, sha256: await sha256Hex(head) } };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  /**
   * Does a path task: checks both paths, reads the input, processes it on
   * the image thread (calling `askAhead` as it hands the bytes over, as for
   * a bytes task) and writes the output atomically. Never throws: a failure
   * is a result with `ok: false`.
   */
  async process(
    task: TaskMessage,
    pipeline: Pipeline,
    thread: ImageThread,
    askAhead: () => void,
  ): Promise<{ message: ResultMessage }> {
    const base = { type: "result", task: task.task, attempt: task.attempt, more: true } as const;
    const fail = (error: string) => ({ message: { ...base, ok: false, error } as const });
    let input: string, output: string, bytes: Uint8Array;
    const start = performance.now();
    try {
      if (task.input === null || task.output === null) return fail("task named no paths");
      input = this.inputPath(task.input);
      output = this.outputPath(task.output);
      bytes = readStartSync(input, MAX_INPUT_BYTES, true) ?? await Deno.readFile(input);
    } catch (error) {
      if (error instanceof OutsideSharedFolders) return fail(error.message);
      if (error instanceof Deno.errors.NotFound) return fail(`input file not found`);
      return fail(`cannot read ${task.name}: ${(error as Error).message}`);
    }
    const read = performance.now() - start;
    askAhead();
    const answer = await thread.process(bytes, pipeline, task.name);
    if (!answer.ok) return fail(answer.error);
    const writing = performance.now();
    try {
      const encoded = answer.encoded.bytes;
      if (encoded.length <= SYNC_FILE_BYTES) writeAtomic(output, encoded);
      else await writeAtomicAsync(output, encoded);
    } catch (error) {
      return fail(describeWriteError(error, task.output!));
    }
    const summary = summarise(answer.encoded);
    const timings = { ...summary.timings, read, write: performance.now() - writing };
    return {
      message: { ...base, ok: true, ...summary, timings, format: answer.encoded.format },
    };
  }
}

/**
 * The `probe` field of a worker's `ready` after a `hello` that carried one:
 * the proof, or nothing (no folders, or it cannot answer: said on `log`;
 * the server then sends bytes).
 */
export async function proveSharedFs(
  shared: SharedFolders | null,
  probe: SharedFsProbe | undefined,
  log: (line: string) => void,
): Promise<{ probe?: SharedFsProof }> {
  if (!shared || !probe) return {};
  const answer = await shared.prove(probe);
  if ("proof" in answer) return { probe: answer.proof };
  log(
    `worker: --shared-fs: cannot answer the server's probe, so it will send bytes: ${answer.error}`,
  );
  return {};
}

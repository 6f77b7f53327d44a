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
  type SharedFsProbe,
  type SharedFsProof,
  type TaskMessage,
} from "../transport/protocol.ts";

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
   * The first half of a path task: checks both paths and reads the input.
   * Its bytes then go to the image thread as a bytes task's do, and the
   * output comes back to {@link write}. Never throws: `{ error }` says why.
   */
  async read(
    task: TaskMessage,
  ): Promise<{ bytes: Uint8Array; output: string; ms: number } | { error: string }> {
    const start = performance.now();
    try {
      if (task.input === null || task.output === null) return { error: "task named no paths" };
      const input = this.inputPath(task.input);
      const output = this.outputPath(task.output);
      const bytes = readStartSync(input, MAX_INPUT_BYTES, true) ?? await Deno.readFile(input);
      return { bytes, output, ms: performance.now() - start };
    } catch (error) {
      if (error instanceof OutsideSharedFolders) return { error: error.message };
      if (error instanceof Deno.errors.NotFound) return { error: `input file not found` };
      return { error: `cannot read ${task.name}: ${(error as Error).message}` };
    }
  }

  /**
   * The second half: writes the encoded output atomically at `output` (what
   * {@link read} resolved; `name` for messages). Returns the milliseconds it
   * took, or `{ error }`; never throws.
   */
  async write(
    output: string,
    encoded: Uint8Array,
    name: string,
  ): Promise<number | { error: string }> {
    const start = performance.now();
    try {
      if (encoded.length <= SYNC_FILE_BYTES) writeAtomic(output, encoded);
      else await writeAtomicAsync(output, encoded);
    } catch (error) {
      return { error: describeWriteError(error, name) };
    }
    return performance.now() - start;
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

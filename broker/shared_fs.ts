/**
 * The server's side of `serve --shared-fs`: remote workers that read inputs
 * and write outputs themselves on a file system mounted at the same paths on
 * every machine, so the server sends names, not bytes (docs/distributed.md,
 * "Shared file system").
 *
 * Both sides opt in: the server with `--shared-fs`, each worker by naming
 * its folders (`worker --shared-fs DIR`, announced in its `join`). A worker
 * whose folders hold both the input and the output folder is sent a probe
 * in its `hello`: a file this server wrote in the output folder with a
 * random token, and one input. Its first `ready` must carry the token and
 * the SHA-256 of that input's first `PROBE_HASH_BYTES`: then it gets paths
 * (like a local worker: no payload, nothing in the payload window);
 * otherwise bytes, with one warning. Nothing else it says is believed: an
 * `ok` for a path task counts only once this server sees the output (a
 * file of the size the result says, written during this run).
 *
 * @module
 */

import { isAbsolute, join, normalize, sep } from "node:path";
import { createLockedSync, TEMP_MARKER } from "../core/atomic.ts";
import { type Job, STDOUT, type Task } from "../core/job.ts";
import type { Log } from "../core/log.ts";
import {
  type JoinMessage,
  PROBE_HASH_BYTES,
  type ReadyMessage,
  type ResultEntry,
  type SharedFsProbe,
} from "../transport/protocol.ts";
import { readStartSync } from "../core/read_start.ts";
import { randomHex, sha256Hex } from "../core/hex.ts";
import { sameSecret } from "./gate.ts";
import type { TaskEnd } from "./scheduler.ts";
import type { Peer } from "./workers.ts";

/** Whether `path` is `folder` or lies inside it (both absolute and normalised). */
export function holds(folder: string, path: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** One run's shared file system: its probe, and the workers that passed it. */
export class SharedFs {
  /** Workers that proved they see this server's files: they get paths. */
  readonly #verified = new Set<string>();
  /** Workers sent a probe, until their first `ready`. */
  readonly #pending = new Set<string>();
  /**
   * The token file, open and locked for the run (the lock a writer holds on
   * a temporary: another run's sweep of this folder leaves it alone).
   */
  #held: Deno.FsFile | null = null;

  private constructor(
    readonly job: Job,
    readonly log: Log,
    readonly name: (id: string) => string,
    /** The probe every worker is sent. */
    readonly probe: SharedFsProbe,
    readonly token: string,
    readonly digest: string,
    /** When the token file was written, by the shared file system's clock. */
    readonly since: number,
  ) {}

  /**
   * The run's probe (written now), or null: no `--shared-fs`, output to
   * stdout, no task, or the probe cannot be made (then every worker gets
   * bytes, with a warning).
   */
  static async open(
    job: Job,
    tasks: readonly Task[],
    log: Log,
    name: (id: string) => string,
  ): Promise<SharedFs | null> {
    if (!job.sharedFs || job.output === STDOUT || tasks.length === 0) return null;
    const token = randomHex();
    const probe = {
      token: join(job.output, `.zpix-shared-fs-probe${TEMP_MARKER}${Deno.pid}-${randomHex(4)}`),
      input: join(job.input, tasks[0].input),
    };
    let held: Deno.FsFile | null = null;
    try {
      // Written whole before any worker is told its name (at its join, later).
      held = createLockedSync(probe.token, new TextEncoder().encode(token));
      const since = held.statSync().mtime?.getTime() ?? 0;
      const digest = await sha256Hex(readStartSync(probe.input, PROBE_HASH_BYTES)!);
      const shared = new SharedFs(job, log, name, probe, token, digest, since);
      shared.#held = held;
      return shared;
    } catch (error) {
      held?.close();
      Deno.remove(probe.token).catch(() => {});
      log.warn(`--shared-fs: cannot make the probe (${(error as Error).message}): bytes for all`);
      return null;
    }
  }

  /**
   * The `hello`'s probe for a remote worker whose `--shared-fs` folders hold
   * the input and output folders; nothing for any other.
   */
  probeFor(id: string, message: JoinMessage): { probe?: SharedFsProbe } {
    const folders = (message.sharedFs ?? []).filter(isAbsolute).map(normalize);
    if (!folders.length) return {};
    const { input, output } = this.job;
    if (!folders.some((f) => holds(f, input)) || !folders.some((f) => holds(f, output))) {
      this.log.debug(`${this.name(id)}: its --shared-fs folders miss ${input} or ${output}: bytes`);
      return {};
    }
    this.#pending.add(id);
    return { probe: this.probe };
  }

  /** A worker's `ready`: the first after its probe decides whether `peer` gets paths. */
  answered(id: string, message: ReadyMessage, peer: Peer): void {
    if (!this.#pending.delete(id)) return;
    const proof = message.probe;
    if (proof && sameSecret(proof.token, this.token) && proof.sha256 === this.digest) {
      this.#verified.add(id);
      peer.local = true;
      this.log.debug(`${this.name(id)} sees the shared file system: it gets paths, not bytes`);
      return;
    }
    this.log.warn(
      `${this.name(id)}: ${proof ? "wrong" : "no"} answer to the --shared-fs probe ` +
        `(does it see ${this.job.output} as this server does?): it gets bytes`,
    );
  }

  /**
   * Checks the `ok` of worker `id` if it gets paths from this (undefined
   * otherwise): its output is there, of the size it says, written during this run.
   */
  checkOutput(
    id: string,
    task: Task,
    message: Extract<ResultEntry, { ok: true }>,
  ): TaskEnd | undefined {
    if (!this.#verified.has(id)) return undefined;
    const path = join(this.job.output, task.output);
    let info: Deno.FileInfo | null = null;
    try {
      info = Deno.statSync(path);
    } catch {
      // none
    }
    if (info?.isFile && info.size === message.bytes && (info.mtime?.getTime() ?? 0) >= this.since) {
      return { ok: true };
    }
    const seen = !info
      ? "no such file"
      : info.isFile && info.size === message.bytes
      ? "a file from before this run"
      : `${info.isFile ? "a file" : "something"} of ${info.size} bytes`;
    return {
      ok: false,
      error:
        `the worker says it wrote ${task.output} (${message.bytes} bytes); the server sees ${seen}`,
    };
  }

  /** A worker is gone: it is probed again if it joins again. */
  forget(id: string): void {
    this.#pending.delete(id);
    this.#verified.delete(id);
  }

  /** Removes the probe's token file (a killed run's is swept by the next: TEMP_MARKER). */
  close(): void {
    try {
      Deno.removeSync(this.probe.token);
    } catch {
      // gone already
    }
    this.#held?.close();
    this.#held = null;
  }
}

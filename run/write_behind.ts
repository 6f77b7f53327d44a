/**
 * Sequential mode's writes, behind the computation: each output is written
 * (temporary name, then rename: `core/atomic.ts` `writeAtomicAsync`) on
 * Deno's blocking thread pool while this thread decodes and encodes the
 * next images, so the one thread of a sequential run never waits on the
 * file system and creating files (the kernel's inode allocation) runs on
 * another core.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { writeAtomicAsync } from "../core/atomic.ts";

/** Most writes under way at once (4 are enough to keep the thread pool busy). */
export const WRITES_IN_FLIGHT = 4;

/** Most bytes of encoded outputs held by the writes under way (one larger output is written alone). */
export const BYTES_IN_FLIGHT = 64 << 20;

/**
 * What became of one write: null, or the error it threw; and the ms it held
 * the caller (starting it, and waiting for a free place first), not the
 * time it took on the thread pool, which overlaps the next images' work.
 */
export type WriteDone = (error: unknown, heldMs: number) => void;

/** Writes started and not yet finished, at most {@link WRITES_IN_FLIGHT}. */
export class WriteBehind {
  readonly #pending = new Set<Promise<void>>();
  #bytes = 0;

  /** Writes under way. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Starts writing `bytes` to `path` atomically; `done` is called when it
   * ends, with null or its error. Waits first while {@link WRITES_IN_FLIGHT}
   * writes, or {@link BYTES_IN_FLIGHT} bytes with these, are under way.
   */
  async write(path: string, bytes: Uint8Array, done: WriteDone): Promise<void> {
    const called = performance.now();
    while (
      this.#pending.size >= WRITES_IN_FLIGHT ||
      (this.#pending.size && this.#bytes + bytes.length > BYTES_IN_FLIGHT)
    ) {
      await Promise.race(this.#pending);
    }
    this.#bytes += bytes.length;
    let held = 0; // set below, before the write can end (its end needs an event-loop turn)
    const write: Promise<void> = writeAtomicAsync(path, bytes).then(
      () => done(null, held),
      (error) => done(error, held),
    ).finally(() => {
      this.#bytes -= bytes.length;
      this.#pending.delete(write);
    });
    this.#pending.add(write);
    held = performance.now() - called;
  }

  /**
   * One turn of the event loop when writes are under way, so that those
   * whose file was written go on to their rename and finished ones are
   * reported (a few µs: `setImmediate`, not a timer, which Deno clamps to
   * 4 ms when nested).
   */
  turn(): Promise<void> {
    return this.#pending.size ? new Promise((resolve) => setImmediate(resolve)) : Promise.resolve();
  }

  /** Waits for every write under way (the end of a run, or Ctrl-C: nothing is left half-done). */
  async drain(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }
}

/**
 * The server's file I/O for remote workers, off its message loop: each
 * input is read, and each output written (`writeAtomicAsync`: temporary
 * name, then rename), on Deno's blocking thread pool while the broker's
 * one thread goes on handling messages; several are under way at once.
 * Before, every read and write was awaited (or done synchronously) in the
 * handler: with 8 instant fake workers the broker sat idle 46 % of the
 * time between a result and the next task (see docs/performance.md).
 *
 * @module
 */

import { join } from "node:path";
import { writeAtomicAsync } from "../core/atomic.ts";
import { MAX_INPUT_BYTES } from "../transport/protocol.ts";

/**
 * Reads an input to send to a remote worker; refuses one over
 * {@link MAX_INPUT_BYTES}. Its size is asked synchronously: a metadata call
 * is short, and one async call less a task took the server's CPU from 286-298
 * to 250 us a task (scale-bench, 8 fakes, tmpfs, interleaved).
 */
export async function readInput(path: string): Promise<Uint8Array> {
  if (Deno.statSync(path).size > MAX_INPUT_BYTES) {
    throw new Error(`larger than ${MAX_INPUT_BYTES} bytes, the most a worker is sent`);
  }
  return await Deno.readFile(path);
}

/**
 * Reads and writes in flight for remote workers. Reads for one worker are
 * handed back in the order they were asked for (its tasks go out in the
 * order the scheduler assigned them); writes complete in any order, and
 * {@link writing} counts them (the broker counts them in its payload window:
 * an output waiting to be written is an image in memory too).
 */
export class RemoteFiles {
  readonly #writes = new Set<Promise<unknown>>();
  readonly #sends = new Map<string, Promise<void>>();

  /**
   * @param input the input folder @param output the output folder
   * @param onBug told of an exception thrown by a callback (never expected)
   */
  constructor(
    readonly input: string,
    readonly output: string,
    readonly onBug: (error: unknown) => void,
  ) {}

  /** Reads in flight (or not yet handed on). */
  #reading = 0;

  /** Whether any read or write is under way. */
  get busy(): boolean {
    return this.#reading > 0 || this.#writes.size > 0;
  }

  /** Writes in flight. */
  get writing(): number {
    return this.#writes.size;
  }

  /**
   * Reads input `name` for worker `id` now; once it is in (and every read
   * asked for earlier for that worker has been handed on), calls `then`
   * with its bytes or `failed` with the error.
   */
  read(
    id: string,
    name: string,
    then: (bytes: Uint8Array) => Promise<void>,
    failed: (error: Error) => Promise<void>,
  ): void {
    this.#reading++;
    const reading = readInput(join(this.input, name));
    reading.catch(() => {}); // handled in turn below
    const chain = (this.#sends.get(id) ?? Promise.resolve())
      .then(() => reading.then(then, failed))
      .catch(this.onBug)
      .finally(() => this.#reading--);
    this.#sends.set(id, chain);
  }

  /** Forgets worker `id`'s order of reads (it is gone; what was under way checks for itself). */
  forget(id: string): void {
    this.#sends.delete(id);
  }

  /** Writes output `name` atomically; then calls `settled` with null or the error. */
  write(name: string, bytes: Uint8Array, settled: (error: unknown) => void): void {
    const writing: Promise<unknown> = writeAtomicAsync(join(this.output, name), bytes)
      .then(() => null, (error) => error);
    this.#writes.add(writing);
    // Out of the count before `settled` runs: it may hand the window's room out at once, and two
    // writes settling in one turn would otherwise each see the other's and leave it unused.
    writing.then((error) => {
      this.#writes.delete(writing);
      settled(error);
    }).catch(this.onBug);
  }

  /** Resolves once every write under way (and any started meanwhile) has settled. */
  async drain(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }
}

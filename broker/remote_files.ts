/**
 * The server's file I/O for remote workers. Each input is read, and each
 * output written (temporary name, then rename), synchronously on the
 * broker's thread while those calls are fast, and on Deno's blocking thread
 * pool once one is slow.
 *
 * Why both: on a fast disk (page cache, tmpfs, an idle ext4) a read or a
 * write of a photo-size file (up to {@link SYNC_FILE_BYTES}; larger ones
 * always go to the pool) takes tens of microseconds, and each async call's hop to a pool
 * thread and back cost more than the call itself: with 8 instant fake
 * workers on tmpfs the server spent 258-296 us of CPU a task with async
 * calls (3 a task) and 198-200 us with sync ones (scale-bench, same run).
 * On a slow disk (a network file system, a disk busy with other work) a
 * sync call would hold up every worker's messages: once {@link SLOW_IO_STRIKES}
 * in a row take longer than {@link SLOW_IO_MS}, calls go to the pool for {@link SLOW_IO_HOLD_MS}
 * (longer if the next sync call is slow too), several under way at once
 * while the broker's thread goes on handling messages (before the pool,
 * every read and write was awaited in the handler: the broker sat idle
 * 46 % of the time, docs/performance.md).
 *
 * @module
 */

import { join, sep } from "node:path";
import { writeAtomic, writeAtomicAsync } from "../core/atomic.ts";
import { MAX_INPUT_BYTES } from "../transport/protocol.ts";
import { SYNC_FILE_BYTES } from "../core/read_start.ts";

/**
 * A read or write that took longer than this (ms) sends the next ones to the
 * thread pool. Not less: a sync call's time includes any time the thread was
 * descheduled, several ms on a loaded machine, and each such call then sent
 * the calls of a second to the pool for nothing. Load 6-9, scale-bench
 * --capacity, 3 rounds interleaved: server CPU a task 214-284 us (tmpfs) and
 * 394-674 us (ext4) with 10 ms, 258-288 and 582-1,028 us with 2 ms.
 */
export const SLOW_IO_MS = 10;

/**
 * How many sync calls in a row must be slow before calls go to the thread
 * pool. Not one: on a busy machine a call is now and then slow only because
 * the thread was descheduled during it, and the pool is dear on a local disk
 * (several writes at once into one folder contend for it: 1,000 photos from
 * 2 remote workers, ext4, the server's pool threads took 0.9-1.2 s of CPU
 * where its sync calls took ~0.25 s). Two in a row: a disk that is slow is
 * slow for the next call too; a thread descheduled once seldom is.
 */
export const SLOW_IO_STRIKES = 2;

/**
 * How long (ms) file calls stay on the thread pool after slow ones, before
 * a sync call is tried again; doubled each time that one is slow too, up to
 * {@link SLOW_IO_MAX_HOLD_MS} (a disk that stays slow blocks the broker once
 * a minute at most), and back to this once a sync call is fast.
 */
export const SLOW_IO_HOLD_MS = 1000;

/** The longest stay on the thread pool between two sync calls, in ms. */
export const SLOW_IO_MAX_HOLD_MS = 64_000;

function checkSize(size: number): void {
  if (size > MAX_INPUT_BYTES) {
    throw new Error(`larger than ${MAX_INPUT_BYTES} bytes, the most a worker is sent`);
  }
}

/**
 * Reads an input to send to a remote worker; refuses one over
 * {@link MAX_INPUT_BYTES}. Its size is asked synchronously: a metadata call
 * is short, and one async call less a task took the server's CPU from 286-298
 * to 250 us a task (scale-bench, 8 fakes, tmpfs, interleaved).
 */
export async function readInput(path: string): Promise<Uint8Array> {
  checkSize(Deno.statSync(path).size);
  return await Deno.readFile(path);
}

/**
 * {@link readInput} without the thread pool; null for a file over
 * `syncMax` bytes (to be read on the pool). `size`: the file's size if it
 * was just asked (no second stat).
 */
export function readInputSync(
  path: string,
  syncMax = Infinity,
  size = Deno.statSync(path).size,
): Uint8Array | null {
  checkSize(size);
  return size > syncMax ? null : Deno.readFileSync(path);
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
  /** Until when (performance.now() ms) calls go to the thread pool: a recent call was slow. */
  #poolUntil = -Infinity;
  /** The next stay on the pool after a slow sync call, in ms. */
  #hold = SLOW_IO_HOLD_MS;
  /** Slow sync calls in a row (a fast one resets it; a stay on the pool does not). */
  #strikes = 0;

  /**
   * @param input the input folder @param output the output folder
   * @param onBug told of an exception thrown by a callback (never expected)
   * @param slowMs a sync call longer than this sends calls to the thread
   * pool for {@link SLOW_IO_HOLD_MS} (0: always the pool)
   */
  constructor(
    readonly input: string,
    readonly output: string,
    readonly onBug: (error: unknown) => void,
    readonly slowMs = SLOW_IO_MS,
  ) {
    if (slowMs <= 0) this.#poolUntil = Infinity;
    this.#inputDir = join(input, sep);
    this.#outputDir = join(output, sep);
  }

  /** The folders, normalised once and ending in a separator: a task's path is one concatenation
   * (its name is relative and normalised by the plan), not a `join` a file. */
  readonly #inputDir: string;
  readonly #outputDir: string;
  #writingBytes = 0;

  /** Whether the next call goes to the thread pool. */
  get pooled(): boolean {
    return performance.now() < this.#poolUntil;
  }

  /**
   * Runs `call` synchronously, timed: {@link SLOW_IO_STRIKES} slow ones in a
   * row send the next calls to the pool (after a stay there, one slow call
   * sends them back: the disk was slow before).
   */
  #sync<T>(call: () => T): T {
    const start = performance.now();
    try {
      return call();
    } finally {
      const end = performance.now();
      if (end - start <= this.slowMs) {
        this.#strikes = 0;
        this.#hold = SLOW_IO_HOLD_MS;
      } else if (++this.#strikes >= SLOW_IO_STRIKES) {
        this.#poolUntil = end + this.#hold;
        this.#hold = Math.min(this.#hold * 2, SLOW_IO_MAX_HOLD_MS);
      }
    }
  }

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

  /** Bytes of the writes in flight (the payload window counts them). */
  get writingBytes(): number {
    return this.#writingBytes;
  }

  /**
   * Sizes asked by {@link inputSize} in this turn of the event loop, by path:
   * the payload window weighs a task just before its read, in the same turn,
   * and the read takes its size from here instead of a second `statSync` of
   * the same path (5-6 us a task: a Deno stat builds a whole `FileInfo`).
   * Emptied by a microtask, so a size is never older than that turn.
   */
  readonly #sized = new Map<string, number>();

  /** The size of input `name` now, or 0 if it cannot be asked (its read will say why). */
  inputSize(name: string): number {
    const path = this.#inputDir + name;
    let size: number;
    try {
      size = Deno.statSync(path).size;
    } catch {
      return 0;
    }
    if (this.#sized.size === 0) queueMicrotask(() => this.#sized.clear());
    this.#sized.set(path, size);
    return size;
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
    const path = this.#inputDir + name;
    const earlier = this.#sends.get(id);
    if (!earlier && !this.pooled) {
      // Nothing of this worker's still on its way: hand this one on now, in order.
      let bytes: Uint8Array | null;
      try {
        const size = this.#sized.get(path);
        bytes = this.#sync(() => readInputSync(path, SYNC_FILE_BYTES, size));
      } catch (error) {
        // Later, not from here: its handler hands out the next task, whose read may fail too.
        queueMicrotask(() => failed(error as Error).catch(this.onBug));
        return;
      }
      if (bytes) {
        then(bytes).catch(this.onBug);
        return;
      } // a large file: on the pool, below
    }
    this.#reading++;
    const reading = readInput(path);
    reading.catch(() => {}); // handled in turn below
    const chain: Promise<void> = (earlier ?? Promise.resolve())
      .then(() => reading.then(then, failed))
      .catch(this.onBug)
      .finally(() => {
        this.#reading--;
        // The last of this worker's reads: its next may be a sync one.
        if (this.#sends.get(id) === chain) this.#sends.delete(id);
      });
    this.#sends.set(id, chain);
  }

  /** Forgets worker `id`'s order of reads (it is gone; what was under way checks for itself). */
  forget(id: string): void {
    this.#sends.delete(id);
  }

  /**
   * Writes output `name` atomically; then calls `settled` with null or the
   * error (at once when the write was synchronous).
   */
  write(name: string, bytes: Uint8Array, settled: (error: unknown) => void): void {
    const path = this.#outputDir + name;
    if (!this.pooled && bytes.length <= SYNC_FILE_BYTES) {
      let error: unknown = null;
      try {
        this.#sync(() => writeAtomic(path, bytes));
      } catch (caught) {
        error = caught;
      }
      try {
        settled(error);
      } catch (bug) {
        this.onBug(bug);
      }
      return;
    }
    const writing: Promise<unknown> = writeAtomicAsync(path, bytes)
      .then(() => null, (error) => error);
    this.#writes.add(writing);
    this.#writingBytes += bytes.length;
    // Out of the count before `settled` runs: it may hand the window's room out at once, and two
    // writes settling in one turn would otherwise each see the other's and leave it unused.
    writing.then((error) => {
      this.#writes.delete(writing);
      this.#writingBytes -= bytes.length;
      settled(error);
    }).catch(this.onBug);
  }

  /** Resolves once every write under way (and any started meanwhile) has settled. */
  async drain(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }
}

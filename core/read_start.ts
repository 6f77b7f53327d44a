/**
 * Small files read synchronously: a file's first bytes (or all of it, when
 * small), refusing anything but a regular file.
 *
 * @module
 */

/**
 * Files up to this size (bytes) are read and written with synchronous calls,
 * larger ones on Deno's thread pool: a call's cost grows with its bytes
 * while the pool's hop does not, so a sync call only pays off for small
 * files, and a large one would hold every message up meanwhile.
 * - A `--shared-fs` worker (worker/shared_fs.ts) reads its inputs and writes
 *   its outputs on its main thread up to this size: each async call's hop to
 *   the pool and back cost more than the call (7 a task: 2 path checks, stat,
 *   open, read, write, rename). 200 photos, 2 workers, same run: 0.91-1.19 s
 *   with async calls, against 0.80-0.95 s for the bytes path. A photo's calls
 *   take tens of microseconds on a local disk, a few ms on a network file
 *   system: heartbeats (every 500 ms) and signals wait that long.
 * - The server (broker/remote_files.ts) reads remote workers' inputs and
 *   writes their outputs synchronously up to this size while its calls are
 *   fast, and always on the pool above it (up to `MAX_INPUT_BYTES`).
 */
export const SYNC_FILE_BYTES = 1 << 20;

/**
 * The first `max` bytes of a regular file (never a FIFO or device, which
 * could block or never end), read synchronously; null when that is over
 * {@link SYNC_FILE_BYTES} (read it on the pool). With `whole`, a file larger
 * than `max` is an error.
 */
export function readStartSync(path: string, max: number, whole = false): Uint8Array | null {
  const info = Deno.statSync(path);
  if (!info.isFile) throw new Error("not a regular file");
  if (whole && info.size > max) {
    throw new Error(`larger than ${max} bytes, the most a worker reads`);
  }
  const size = Math.min(info.size, max);
  if (size > SYNC_FILE_BYTES) return null;
  using file = Deno.openSync(path);
  const bytes = new Uint8Array(size);
  let filled = 0;
  for (let n: number | null = 0; n !== null && filled < size; filled += n ?? 0) {
    n = file.readSync(bytes.subarray(filled));
  }
  return bytes.subarray(0, filled);
}

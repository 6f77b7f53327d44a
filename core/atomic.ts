/**
 * Writing a file so that it is never seen half-written: a temporary name
 * in the same folder (marked with {@link TEMP_MARKER}, swept at the start
 * and end of every run), then a rename.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/** Marker in the names of files being written; never left behind. */
export const TEMP_MARKER = ".zpix-tmp-";

/**
 * Writes `bytes` to `path` atomically: to a temporary name in the same
 * folder, then renamed. Creates missing parent folders. Synchronous calls:
 * a worker does one thing at a time, and the async variants' hop through
 * Deno's blocking thread pool cost a loaded 2-core machine ~2 ms a file.
 */
export function writeAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  Deno.mkdirSync(dir, { recursive: true });
  const temp = join(
    dir,
    `.${basename(path)}${TEMP_MARKER}${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`,
  );
  try {
    Deno.writeFileSync(temp, bytes);
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // never written
    }
    throw error;
  }
}

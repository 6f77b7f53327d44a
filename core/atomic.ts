/**
 * Writing a file so that it is never seen half-written: a temporary name
 * in the same folder (marked with {@link TEMP_MARKER}, swept at the start
 * and end of every run), then a rename.
 *
 * @module
 */

import { basename, dirname, sep as SEP } from "node:path";

/** Marker in the names of files being written; never left behind. */
export const TEMP_MARKER = ".zpix-tmp-";

/** Longest file name, in bytes, of the usual file systems (ext4, XFS, Btrfs, tmpfs, APFS). */
export const NAME_MAX = 255;

/**
 * The longest start of `name` whose UTF-8 form fits in `max` bytes, never
 * cutting a character in two.
 */
export function fitBytes(name: string, max: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: a name that short fits (no encoding, no buffer).
  if (name.length * 3 <= max) return name;
  const bytes = new Uint8Array(Math.max(0, max));
  const { read } = new TextEncoder().encodeInto(name, bytes);
  return name.slice(0, read);
}

/**
 * Writes `bytes` to `path` atomically: to a temporary name in the same
 * folder, then renamed. The temporary name is `.NAME` cut to fit
 * {@link NAME_MAX} with its suffix (TEMP_MARKER, pid, random), so a name of
 * up to 255 bytes can be written. Creates missing parent folders (when the
 * first write finds none). Synchronous calls:
 * a worker does one thing at a time, and the async variants' hop through
 * Deno's blocking thread pool cost a loaded 2-core machine ~2 ms a file.
 */
export function writeAtomic(path: string, bytes: Uint8Array): void {
  const temp = tempPathOf(path);
  try {
    try {
      Deno.writeFileSync(temp, bytes);
    } catch (error) {
      // The folder is missing (a new sub-folder of --recursive, or removed meanwhile): make it.
      // Not before every write: a recursive mkdir of an existing folder is two system calls,
      // 0.045 ms a file (89 ms of a 2,000-photo sequential run's 9.6 s CPU profile).
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      Deno.mkdirSync(dirname(path), { recursive: true });
      Deno.writeFileSync(temp, bytes);
    }
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

/** This process's temporary names: a random start, one more for each name. */
let tempSerial = crypto.getRandomValues(new Uint32Array(1))[0];

/**
 * The temporary name `path` is written under before its rename (see {@link writeAtomic}):
 * unique within this process (a serial number from a random start, not a random UUID a file)
 * and across processes (the pid), built without `join`, which normalises the whole path
 * (with the broker's own joins, 7 us of the server's CPU a task in a scale-bench profile).
 */
function tempPathOf(path: string): string {
  tempSerial = (tempSerial + 1) >>> 0;
  const suffix = `${TEMP_MARKER}${Deno.pid}-${tempSerial.toString(16).padStart(8, "0")}`;
  const dir = dirname(path);
  return `${dir}${dir.endsWith(SEP) ? "" : SEP}.${
    fitBytes(basename(path), NAME_MAX - 1 - suffix.length)
  }${suffix}`;
}

/**
 * {@link writeAtomic} with Deno's async calls, for the broker and sequential
 * mode: their writes run on Deno's blocking thread pool while their one
 * thread handles messages or computes the next image, and several can be
 * under way at once. The folder is made only when the
 * first write finds it missing (one system call a file less).
 */
export async function writeAtomicAsync(path: string, bytes: Uint8Array): Promise<void> {
  const temp = tempPathOf(path);
  try {
    try {
      await Deno.writeFile(temp, bytes);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.mkdir(dirname(path), { recursive: true });
      await Deno.writeFile(temp, bytes);
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {}); // never written
    throw error;
  }
}

/** Says which access the sandbox refused, so the missing flag is obvious. */
export function describeNotCapable(error: Error): string {
  const match = /Requires (\w+) access to "?([^",]+)"?/.exec(error.message);
  return match
    ? `not allowed to ${match[1]} ${match[2]} (outside the worker's sandbox)`
    : error.message;
}

/** Says why an output could not be written, in one line without temporary names. */
export function describeWriteError(error: unknown, outputPath: string): string {
  const message = error instanceof Error
    ? error.message.replace(/\s+/g, " ").trim()
    : String(error);
  const why = /No space left|ENOSPC|os error 28/i.test(message)
    ? "disk full"
    : error instanceof Deno.errors.IsADirectory
    ? "a folder of that name is in the way"
    : error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : error instanceof Deno.errors.NotCapable
    ? describeNotCapable(error)
    : /Read-only file system|os error 30/i.test(message)
    ? "read-only file system"
    : message.replace(/ \(os error \d+\)/, "").replace(/: (rename|open|mkdir|write) '.*$/, "");
  return `cannot write ${outputPath}: ${why}`;
}

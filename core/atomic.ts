/**
 * Writing a file so that it is never seen half-written: a temporary name
 * in the same folder (marked with {@link TEMP_MARKER}), then a rename. The
 * writer holds an exclusive lock (`flock`) on its temporary from before its
 * first byte until after the rename; the kernel drops it when the writer
 * dies, however it dies. So a sweep at the start and end of a run removes
 * what killed writers left ({@link isStaleTemporary}: unlocked), never a
 * temporary that another live run writing into the same folder is filling.
 * Between making its temporary and locking it (for the async writer, until
 * its thread gets back to it), a writer's file is empty and unlocked like a
 * killed writer's: a sweep may remove it then, and the write, whose rename
 * finds its temporary gone, is done again under a new name.
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
  for (let attempt = 1;; attempt++) {
    const temp = tempPathOf(path);
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(temp, CREATE);
    } catch (error) {
      // The folder is missing (a new sub-folder of --recursive, or removed meanwhile): make it.
      // Not before every write: a recursive mkdir of an existing folder is two system calls,
      // 0.045 ms a file (89 ms of a 2,000-photo sequential run's 9.6 s CPU profile).
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      Deno.mkdirSync(dirname(path), { recursive: true });
      file = Deno.openSync(temp, CREATE);
    }
    try {
      // Free but for a sweep looking at it this instant (see the module doc).
      if (!file.tryLockSync(true)) file.lockSync(true);
      writeAllSync(file, bytes);
      Deno.renameSync(temp, path);
      return;
    } catch (error) {
      try {
        Deno.removeSync(temp);
      } catch {
        // renamed or gone
      }
      if (!sweptBeforeLock(error, attempt)) throw error;
    } finally {
      file.close();
    }
  }
}

/**
 * Writes all of `bytes` into `file` at its position: one `write` may take
 * only part of them.
 */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

/**
 * Makes the new file `path` (an error if it exists), locks it exclusively
 * and writes `bytes` into it; returns it open and locked, so that a sweep
 * ({@link isStaleTemporary}) leaves it alone until it is closed or its
 * process dies. For files held for a whole run (a run's owner lock, the
 * shared-fs probe token); closed again if the lock or the write fails.
 */
export function createLockedSync(path: string, bytes: Uint8Array): Deno.FsFile {
  const file = Deno.openSync(path, CREATE);
  try {
    file.lockSync(true);
    writeAllSync(file, bytes);
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/** A temporary is a new file, write-only. */
const CREATE: Deno.OpenOptions = { write: true, createNew: true };

/**
 * Whether a write failed because another run's sweep removed its temporary
 * between its making and its lock (unlocked and empty then: see the module
 * doc), so it is written again under a new temporary name, once.
 */
function sweptBeforeLock(error: unknown, attempt: number): boolean {
  return attempt === 1 && error instanceof Deno.errors.NotFound;
}

/**
 * Whether a sweep may remove the temporary file at `path`: no live process
 * holds its lock (see the module doc). False where it cannot be opened.
 */
export function isStaleTemporary(path: string): boolean {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true });
  } catch {
    return false; // gone (renamed meanwhile), or not ours to touch
  }
  try {
    return file.tryLockSync(true);
  } catch {
    return false;
  } finally {
    file.close();
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
 * first write finds it missing (one system call a file less). The making
 * of the file (its inode: the slow part on a busy ext4) and the rename go to
 * the pool; the lock and the write are synchronous.
 */
export async function writeAtomicAsync(path: string, bytes: Uint8Array): Promise<void> {
  for (let attempt = 1;; attempt++) {
    const temp = tempPathOf(path);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(temp, CREATE);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.mkdir(dirname(path), { recursive: true });
      file = await Deno.open(temp, CREATE);
    }
    try {
      if (!file.tryLockSync(true)) await file.lock(true);
      // The bytes go in synchronously: a copy into the page cache, cheaper than another hop to
      // the thread pool (1,000 files of 60 KB on tmpfs: 81 ms of CPU against 99 ms async).
      writeAllSync(file, bytes);
      await Deno.rename(temp, path);
      return;
    } catch (error) {
      await Deno.remove(temp).catch(() => {}); // renamed or gone
      if (!sweptBeforeLock(error, attempt)) throw error;
    } finally {
      file.close();
    }
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

/**
 * The private folder of a run's `ipc://` endpoints (`$TMPDIR/zpix-run-PID-…`),
 * and the removal of those that runs killed with SIGKILL left behind.
 *
 * A run holds an exclusive lock (`flock`) on `owner.lock` in its folder for
 * as long as it lives; the kernel drops it when the process dies, however
 * it dies. At start, a run removes every `zpix-run-*` folder of the same
 * temporary directory whose lock it can take (its owner is dead) and that
 * holds nothing but what a run puts there. A folder without a lock file, a
 * locked one, one with anything else in it, or another user's is left
 * alone: it is live, being made, or not ours. The owner writes its pid into
 * the lock file only once it holds the lock, so a lock taken on an empty
 * file is one being made, and is left alone too. (No rename: that would
 * need read access, which a run may lack.)
 *
 * @module
 */

import { dirname, join } from "node:path";
import { createLockedSync } from "../core/atomic.ts";

/** Start of a private folder's name; the owner's pid follows. */
export const PRIVATE_PREFIX = "zpix-run-";

/** The lock file in a private folder; it holds the owner's pid. */
export const OWNER_LOCK = "owner.lock";

const NAME = new RegExp(`^${PRIVATE_PREFIX}\\d+-[A-Za-z0-9_]+$`);

/** What a run puts in its private folder: the lock and the two ipc sockets. */
const KNOWN = new Set([OWNER_LOCK, "tasks", "tasks.pub"]);

/** Lock files of this process's folders, open (and so locked) until the folder is removed. */
const held = new Map<string, Deno.FsFile>();

/**
 * Makes this run's private folder, locked for as long as this process
 * lives, and starts removing stale ones of dead runs in the background.
 */
export function makePrivateDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: `${PRIVATE_PREFIX}${Deno.pid}-` });
  let file: Deno.FsFile;
  try {
    file = createLockedSync(join(dir, OWNER_LOCK), new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (error) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // nothing more to do
    }
    throw error;
  }
  held.set(dir, file);
  void removeStaleDirs(dirname(dir), dir);
  return dir;
}

/** Removes this run's private folder (and lets its lock go). */
export async function removePrivateDir(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  held.get(dir)?.close();
  held.delete(dir);
}

/**
 * Removes the private folders in `tmp` whose owner is dead (see the module
 * doc), except `own`; returns their names. Never throws.
 */
export async function removeStaleDirs(tmp: string, own = ""): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  let uid: number | null = null;
  try {
    entries = await Array.fromAsync(Deno.readDir(tmp));
    // Only folders of this process's user (the owner of `own`): never another user's.
    if (own) uid = (await Deno.lstat(own)).uid;
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const dir = join(tmp, entry.name);
    if (!entry.isDirectory || !NAME.test(entry.name) || dir === own) continue;
    let lock: Deno.FsFile;
    try {
      if (uid !== null && (await Deno.lstat(dir)).uid !== uid) continue; // not ours
      // A regular file only: opening a FIFO put there would block.
      if (!(await Deno.lstat(join(dir, OWNER_LOCK))).isFile) continue;
      lock = await Deno.open(join(dir, OWNER_LOCK), { read: true });
    } catch {
      continue; // no lock file: being made, or not ours
    }
    try {
      if (!lock.tryLockSync(true)) continue; // its run is alive
      // Empty: its owner has not locked it yet (being made). A pid: its owner is dead.
      const owner = new Uint8Array(32);
      const length = lock.readSync(owner) ?? 0;
      if (!/^\d+\n$/.test(new TextDecoder().decode(owner.subarray(0, length)))) continue;
      const inside = await Array.fromAsync(Deno.readDir(dir));
      if (inside.some((e) => e.isDirectory || !KNOWN.has(e.name))) continue; // not only ours
      await Deno.remove(dir, { recursive: true });
      removed.push(entry.name);
    } catch {
      // gone meanwhile, or not ours to remove
    } finally {
      lock.close();
    }
  }
  return removed;
}

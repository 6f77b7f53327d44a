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
 * alone: it is live, being made, or not ours. The lock file is made under another name, locked,
 * then renamed into place, so it is never seen unlocked while its run lives.
 *
 * @module
 */

import { dirname, join } from "node:path";

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
  const making = join(dir, `${OWNER_LOCK}.new`);
  const file = Deno.openSync(making, { write: true, createNew: true });
  try {
    file.lockSync(true);
    file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
    Deno.renameSync(making, join(dir, OWNER_LOCK));
  } catch (error) {
    file.close();
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

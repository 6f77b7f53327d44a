import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createLockedSync,
  isStaleTemporary,
  TEMP_MARKER,
  writeAtomic,
  writeAtomicAsync,
} from "./atomic.ts";
import { withTempDir } from "../tests/helpers.ts";

Deno.test("isStaleTemporary: a locked temporary is a live writer's; unlocked and filled, a dead one's", async () => {
  await withTempDir(async (dir) => {
    const temp = join(dir, `.a.jpg${TEMP_MARKER}1-00000001`);
    // A writer's lock (another open of the file: a lock of its own, as another process's is).
    const writer = await Deno.open(temp, { write: true, createNew: true });
    try {
      await writer.lock(true);
      await writer.write(new Uint8Array(100));
      assert.equal(isStaleTemporary(temp), false);
    } finally {
      writer.close();
    }
    // The lock goes with the writer (the kernel drops it however the writer dies): left behind.
    assert.equal(isStaleTemporary(temp), true);
    assert.equal(isStaleTemporary(join(dir, "missing")), false);
  });
});

Deno.test("isStaleTemporary: an empty unlocked one is stale too (its writer died before its lock)", async () => {
  await withTempDir(async (dir) => {
    const temp = join(dir, `.a.jpg${TEMP_MARKER}1-00000002`);
    await Deno.writeFile(temp, new Uint8Array(0));
    assert.equal(isStaleTemporary(temp), true);
  });
});

Deno.test("createLockedSync: a new file with all its bytes, locked while open; never over an existing one", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, `.token${TEMP_MARKER}1-00000003`);
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
    const held = createLockedSync(path, bytes);
    try {
      assert.equal(isStaleTemporary(path), false, "locked while held");
      assert.deepEqual(await Deno.readFile(path), bytes);
      assert.throws(() => createLockedSync(path, new Uint8Array(1)), Deno.errors.AlreadyExists);
      assert.deepEqual(await Deno.readFile(path), bytes, "the existing file untouched");
    } finally {
      held.close();
    }
    assert.equal(isStaleTemporary(path), true, "unlocked once closed");
    assert.throws(
      () => createLockedSync(join(dir, "missing", "x"), bytes),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("writeAtomicAsync: a temporary swept between its making and its lock is written again under a new name", async () => {
  await withTempDir(async (dir) => {
    const bytes = crypto.getRandomValues(new Uint8Array(4096));
    const path = join(dir, "out.bin");
    const write = writeAtomicAsync(path, bytes);
    // Hold this thread (as the sequential loop does, computing the next image) until the thread
    // pool has made the temporary, then sweep it as another run would, before the writer's
    // continuation can lock it.
    const temporaries = () =>
      [...Deno.readDirSync(dir)].filter((e) => e.name.includes(TEMP_MARKER));
    const until = performance.now() + 10_000;
    while (temporaries().length === 0 && performance.now() < until) { /* wait for the pool */ }
    const [swept] = temporaries();
    assert.ok(swept, "the thread pool made the temporary");
    assert.equal(isStaleTemporary(join(dir, swept.name)), true, "empty and unlocked");
    Deno.removeSync(join(dir, swept.name));
    await write;
    assert.deepEqual(await Deno.readFile(path), bytes);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out.bin"]);
  });
});

for (
  const [name, write] of [["writeAtomic", writeAtomic], [
    "writeAtomicAsync",
    writeAtomicAsync,
  ]] as const
) {
  Deno.test(`${name}: the whole file under its name, no temporary left, the folder made if missing`, async () => {
    await withTempDir(async (dir) => {
      const bytes = crypto.getRandomValues(new Uint8Array(65536)); // within getRandomValues' cap
      const path = join(dir, "sub", "out.bin");
      await write(path, bytes);
      assert.deepEqual(await Deno.readFile(path), bytes);
      assert.deepEqual([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), ["out.bin"]);
    });
  });
}

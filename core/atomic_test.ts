import assert from "node:assert/strict";
import { join } from "node:path";
import {
  isStaleTemporary,
  STALE_EMPTY_TEMPORARY_MS,
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

Deno.test("isStaleTemporary: an empty unlocked one is being made unless it is old", async () => {
  await withTempDir(async (dir) => {
    const temp = join(dir, `.a.jpg${TEMP_MARKER}1-00000002`);
    await Deno.writeFile(temp, new Uint8Array(0));
    assert.equal(isStaleTemporary(temp), false);
    const old = new Date(Date.now() - STALE_EMPTY_TEMPORARY_MS - 5000);
    await Deno.utime(temp, old, old);
    assert.equal(isStaleTemporary(temp), true);
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

/**
 * Tests for run/write_behind.ts on a real temporary folder: writes end
 * complete under their names, the in-flight limit holds, failures are
 * reported and leave nothing behind.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { WriteBehind, WRITES_IN_FLIGHT } from "./write_behind.ts";

Deno.test("write-behind: every write ends complete under its name, never more in flight than the limit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-wb-" });
  try {
    const behind = new WriteBehind();
    const done: string[] = [];
    let most = 0;
    for (let i = 0; i < 20; i++) {
      const bytes = new Uint8Array(50_000 + i).fill(i);
      await behind.write(join(dir, `out${i}.bin`), bytes, (error, heldMs) => {
        assert.deepEqual(error, null);
        assert(heldMs >= 0);
        done.push(`out${i}.bin`);
      });
      most = Math.max(most, behind.size);
      assert(behind.size <= WRITES_IN_FLIGHT);
      await behind.turn();
    }
    await behind.drain();
    assert.deepEqual(behind.size, 0);
    assert.deepEqual(done.sort(), Array.from({ length: 20 }, (_, i) => `out${i}.bin`).sort());
    assert(most >= 1);
    // Only the outputs remain (no temporary names), each complete.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, done.slice().sort());
    for (let i = 0; i < 20; i++) {
      const bytes = await Deno.readFile(join(dir, `out${i}.bin`));
      assert.deepEqual(bytes.length, 50_000 + i);
      assert(bytes.every((b) => b === i));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write-behind: a write that fails reports its error and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-wb-" });
  try {
    // A plain file where the output's folder should be: mkdir and the write both fail.
    await Deno.writeTextFile(join(dir, "blocker"), "x");
    const behind = new WriteBehind();
    let failure: unknown = null;
    await behind.write(join(dir, "blocker", "out.bin"), new Uint8Array(10), (error) => {
      failure = error;
    });
    await behind.drain();
    assert.ok(failure instanceof Error);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["blocker"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

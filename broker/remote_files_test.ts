import assert from "node:assert/strict";
import { join } from "node:path";
import { RemoteFiles } from "./remote_files.ts";

Deno.test("RemoteFiles: a write is out of the count when its callback runs, even when writes settle together", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-files-" });
  try {
    const files = new RemoteFiles(dir, dir, (error) => {
      throw error;
    });
    // The broker hands the payload window's room out from these callbacks: each must see only
    // the writes still under way. Counting the settling write itself left the room unused when
    // two writes settled in one turn, and a run with more remote workers than the window hung.
    const seen: number[] = [];
    const n = 6;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < n; i++) {
        files.write(`out${i}.bin`, new Uint8Array([i]), (error) => {
          assert.equal(error, null);
          seen.push(files.writing);
          if (seen.length === n) resolve();
        });
      }
    });
    assert.equal(files.writing, 0);
    assert.deepEqual(seen.toSorted(), [...Array(n).keys()], "each callback sees the others only");
    await files.drain();
    for (let i = 0; i < n; i++) {
      assert.deepEqual(await Deno.readFile(join(dir, `out${i}.bin`)), new Uint8Array([i]));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

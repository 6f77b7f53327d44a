import assert from "node:assert/strict";
import { join } from "node:path";
import { RemoteFiles } from "./remote_files.ts";
import { SYNC_FILE_BYTES } from "../core/read_start.ts";

/**
 * Writes `bytes` to `name` and checks the write went to the thread pool: not
 * settled when write() returns, counted in `writing` (the only write under
 * way), then settled without an error.
 */
async function expectPooledWrite(files: RemoteFiles, name: string, bytes: Uint8Array) {
  let settled: unknown = "not yet";
  const written = new Promise<void>((resolve) =>
    files.write(name, bytes, (error) => {
      settled = error;
      resolve();
    })
  );
  assert.equal(settled, "not yet", "a pooled write settles after write() returns");
  assert.equal(files.writing, 1);
  await written;
  assert.equal(settled, null);
}

Deno.test("RemoteFiles: a write is out of the count when its callback runs, even when writes settle together", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-files-" });
  try {
    const files = new RemoteFiles(dir, dir, (error) => {
      throw error;
    }, 0); // always the thread pool
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

Deno.test("RemoteFiles: fast calls are synchronous, in order; two slow ones in a row send the next to the thread pool", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-files-" });
  const bug = (error: unknown) => {
    throw error;
  };
  try {
    await Deno.writeFile(join(dir, "in.bin"), new Uint8Array([1, 2, 3]));
    const fast = new RemoteFiles(dir, dir, bug, 60_000);
    let read: Uint8Array | null = null;
    fast.read("w", "in.bin", (bytes) => {
      read = bytes;
      return Promise.resolve();
    }, (error) => Promise.reject(error));
    assert.deepEqual(read, new Uint8Array([1, 2, 3]), "handed on before read() returns");
    let settled: unknown = "not yet";
    fast.write("sub/out.bin", new Uint8Array([4]), (error) => settled = error);
    assert.equal(settled, null, "settled before write() returns");
    assert.equal(fast.busy, false);
    assert.deepEqual(await Deno.readFile(join(dir, "sub", "out.bin")), new Uint8Array([4]));
    // A missing input fails through `failed`, never synchronously from read().
    const failure = await new Promise<Error>((resolve) =>
      fast.read("w", "missing.bin", () => Promise.reject(new Error("read?")), (error) => {
        resolve(error);
        return Promise.resolve();
      })
    );
    assert.ok(failure instanceof Deno.errors.NotFound, String(failure));
    // Every call is slower than 1 ns: the second sync one sends the rest to the pool, in order.
    const slow = new RemoteFiles(dir, dir, bug, 1e-6);
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      for (const [i, name] of ["in.bin", "in.bin", "sub/out.bin"].entries()) {
        slow.read("w", name, () => {
          order.push(`${i}`);
          if (order.length === 3) resolve();
          return Promise.resolve();
        }, (error) => Promise.reject(error));
        assert.equal(slow.pooled, i > 0, "pooled after the second slow sync call, not the first");
      }
    });
    assert.equal(slow.busy, true, "the later reads are under way on the pool");
    await done;
    assert.deepEqual(order, ["0", "1", "2"]);
    await expectPooledWrite(slow, "out2.bin", new Uint8Array([5]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RemoteFiles: a disk that stays slow is tried synchronously less and less often", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zpix-files-" });
  try {
    Deno.writeFileSync(join(dir, "in.bin"), new Uint8Array([1]));
    // Every call is slower than 1 ns: the first slow call alone changes nothing, then each sync
    // call is slow and doubles the next stay on the pool.
    const files = new RemoteFiles(dir, dir, (error) => {
      throw error;
    }, 1e-6);
    const stays: number[] = [];
    let clock = 0;
    const realNow = performance.now.bind(performance);
    try {
      performance.now = () => clock + realNow() * 1e-3;
      for (let probe = 0; probe < 9; probe++) {
        files.read(`w${probe}`, "in.bin", () => Promise.resolve(), (e) => Promise.reject(e));
        const from = clock;
        while (files.pooled) clock += 250;
        stays.push(clock - from);
      }
    } finally {
      performance.now = realNow;
    }
    assert.deepEqual(
      stays.map((ms) => Math.round(ms / 1000)),
      [0, 1, 2, 4, 8, 16, 32, 64, 64],
      String(stays),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("RemoteFiles: a file over SYNC_FILE_BYTES is read and written on the thread pool, even while calls are fast", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-files-" });
  const bug = (error: unknown) => {
    throw error;
  };
  try {
    const big = new Uint8Array(SYNC_FILE_BYTES + 1).fill(7);
    await Deno.writeFile(join(dir, "big.bin"), big);
    const files = new RemoteFiles(dir, dir, bug, 60_000);
    assert.equal(files.pooled, false);
    const read = new Promise<Uint8Array>((resolve) =>
      files.read("w", "big.bin", (bytes) => {
        resolve(bytes);
        return Promise.resolve();
      }, (error) => Promise.reject(error))
    );
    assert.equal(files.busy, true, "not handed on before read() returns");
    assert.deepEqual(await read, big);
    await expectPooledWrite(files, "big-out.bin", big);
    assert.deepEqual(await Deno.readFile(join(dir, "big-out.bin")), big);
    // A small file right after is synchronous again.
    let small: unknown = "not yet";
    files.write("small.bin", new Uint8Array([1]), (error) => small = error);
    assert.equal(small, null);
    await files.drain();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RemoteFiles: a read takes the size asked in its own turn, never one from an earlier turn", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-files-" });
  const bug = (error: unknown) => {
    throw error;
  };
  const path = join(dir, "grows.bin");
  try {
    const files = new RemoteFiles(dir, dir, bug, 60_000);
    /** Reads grows.bin; whether it was handed on before read() returned (a sync read). */
    const readNow = async (): Promise<[boolean, number]> => {
      let length = -1;
      const read = new Promise<void>((resolve) =>
        files.read("w", "grows.bin", (bytes) => {
          length = bytes.length;
          resolve();
          return Promise.resolve();
        }, (error) => Promise.reject(error))
      );
      const sync = length >= 0;
      await read;
      return [sync, length];
    };
    await Deno.writeFile(path, new Uint8Array(3));
    assert.equal(files.inputSize("grows.bin"), 3);
    assert.deepEqual(await readNow(), [true, 3], "sized and read in one turn: synchronous");
    // Sized small, then, a turn later, grown over SYNC_FILE_BYTES: the read asks again and
    // goes to the thread pool (a size kept from the earlier turn would have read it here).
    assert.equal(files.inputSize("grows.bin"), 3);
    await Promise.resolve();
    await Deno.writeFile(path, new Uint8Array(SYNC_FILE_BYTES + 1));
    assert.deepEqual(await readNow(), [false, SYNC_FILE_BYTES + 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

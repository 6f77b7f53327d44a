/**
 * Crash-safe writes, proven with real processes and real files:
 *
 * - a zpix process (sequential), or a parallel run's server and worker,
 *   SIGKILLed in the middle of writing a large output (a 25 MB PNG: the
 *   write takes ~0.1 s) leave no output file with partial content: the
 *   only trace is a temporary, which the next run sweeps;
 * - a write that fails (the file-size limit hit mid-write, a folder in the
 *   way at the rename) leaves neither a temporary nor a partial output at
 *   once, before any end-of-run sweep could hide it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeImage } from "../ops/codec.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { TEMP_MARKER, writeAtomic, writeAtomicAsync } from "../core/atomic.ts";
import { sleep, withTempDir, zpix } from "./helpers.ts";
import { listTree, startRun, withRunDir } from "./reliability_helpers.ts";

/** An opaque noise image as a PNG: it does not compress, so its output is as large. */
async function noisePng(width: number, height: number): Promise<Uint8Array> {
  const data = new Uint8Array(width * height * 4);
  let seed = 12345;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    data[i] = i % 4 === 3 ? 255 : seed >>> 24;
  }
  return await encodeImage({ width, height, data }, "png", { quality: 75 });
}

/** Names in `dir` and their sizes ({} while it does not exist). */
function sizes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const entry of Deno.readDirSync(dir)) {
      try {
        out[entry.name] = Deno.statSync(join(dir, entry.name)).size;
      } catch {
        // renamed between the listing and the stat
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

for (const mode of ["sequential", "parallel"] as const) {
  const who = mode === "sequential" ? "zpix" : "a parallel run (server and worker)";
  Deno.test(`SIGKILL to ${who} in the middle of writing a 25 MB output: no output file is partial; the next run sweeps and completes`, async () => {
    await withRunDir(async (dir) => {
      const input = join(dir, "in");
      await Deno.mkdir(input);
      await Deno.writeFile(join(input, "big.png"), await noisePng(2500, 2500));
      const args = (out: string, ...extra: string[]) => [
        mode,
        "-i",
        input,
        "-o",
        out,
        "--op",
        "flip=h",
        "--format",
        "png",
        "-q",
        ...(mode === "parallel" ? ["-w", "1"] : []),
        ...extra,
      ];
      const done = await zpix(args(join(dir, "reference")));
      assert.equal(done.code, 0, done.stderr);
      const reference = await Deno.readFile(join(dir, "reference", "big.png"));
      assert.ok(reference.length > 20e6, `a large output: ${reference.length} bytes`);

      // Kill the process as soon as its output shows (its temporary, or the file itself), and
      // look at what is there. A kill that lands after the rename proves nothing: try again.
      // (zpix's own probe of the folder, `.zpix-write-test…`, comes and goes before.)
      const out = join(dir, "out");
      let landed: Record<string, number> | null = null;
      for (let attempt = 1; attempt <= 8 && !landed; attempt++) {
        await Deno.remove(out, { recursive: true }).catch(() => {});
        // Its own process group: the kill reaches a parallel run's worker (the writer) too.
        const run = startRun(args(out), { setsid: true });
        let seen: Record<string, number> = {};
        for (;;) {
          seen = sizes(out);
          if (Object.keys(seen).some((name) => name.includes("big.png"))) break;
          if (await Promise.race([run.done.then(() => true), sleep(2).then(() => false)])) break;
        }
        try {
          Deno.kill(-run.pid, "SIGKILL");
        } catch {
          // it finished before the kill
        }
        await run.done;
        const after = sizes(out);
        // Whatever carries the final name must be the whole file.
        for (const [name, size] of Object.entries(after)) {
          if (name.includes(TEMP_MARKER)) continue;
          assert.equal(name, "big.png");
          assert.ok(
            size === reference.length,
            `attempt ${attempt}: ${name} has ${size} of ${reference.length} bytes after a SIGKILL ` +
              `(seen at the kill: ${JSON.stringify(seen)})`,
          );
          assert.deepEqual(await Deno.readFile(join(out, name)), reference, name);
        }
        const temporaries = Object.entries(after).filter(([name]) =>
          name.startsWith(`.big.png${TEMP_MARKER}`)
        );
        if (temporaries.some(([, size]) => size < reference.length) && !("big.png" in after)) {
          landed = after;
        }
      }
      assert.ok(landed, "no kill landed in the middle of the write in 8 attempts");
      console.log(`killed mid-write: ${JSON.stringify(landed)}`);

      // Resuming sweeps the killed run's temporary and writes the whole file.
      const resumed = await zpix(args(out, "--skip-existing"));
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(await listTree(out), ["big.png"]);
      assert.deepEqual(await Deno.readFile(join(out, "big.png")), reference);
    });
  });
}

for (const sync of [true, false]) {
  const name = sync ? "writeAtomic" : "writeAtomicAsync (the server's, for remote workers)";
  Deno.test(`${name}: a folder in the way at the rename leaves no temporary behind`, async () => {
    await withTempDir(async (dir) => {
      await Deno.mkdir(join(dir, "out.png"));
      await Deno.writeTextFile(join(dir, "out.png", "keep"), "x");
      const write = sync ? writeAtomic : writeAtomicAsync;
      await assert.rejects(async () => await write(join(dir, "out.png"), new Uint8Array(1000)));
      assert.deepEqual(
        await listTree(dir),
        ["out.png", "out.png/keep"],
        "a failed write left a temporary (or touched the folder)",
      );
      // A missing folder is made; the output is written whole.
      await write(join(dir, "new", "deep", "a.png"), new Uint8Array(10).fill(1));
      assert.deepEqual(
        await Deno.readFile(join(dir, "new", "deep", "a.png")),
        new Uint8Array(10).fill(1),
      );
    });
  });
}

// A write that fails half-way: the process's file-size limit (`ulimit -f`, 64 KiB) is hit
// while 1 MiB is written; SIGXFSZ is ignored, so write(2) fails with EFBIG.
const EFBIG_SCRIPT = `
import { writeAtomic } from ${JSON.stringify(join(SOURCE_ROOT, "core/atomic.ts"))};
try {
  writeAtomic(Deno.args[0], new Uint8Array(1 << 20).fill(7));
  console.log("written");
} catch (error) {
  console.log("failed: " + error.message);
}
`;

Deno.test("writeAtomic: a write that fails half-way (file-size limit) leaves no temporary and no partial output", async () => {
  await withTempDir(async (dir) => {
    const script = join(dir, "write.ts");
    await Deno.writeTextFile(script, EFBIG_SCRIPT);
    const target = join(dir, "out", "big.png");
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        `trap '' XFSZ; ulimit -f 64; exec "$0" run --quiet --no-config --allow-read --allow-write "$1" "$2"`,
        Deno.execPath(),
        script,
        target,
      ],
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, /^failed: .*(too large|os error 27)/i, "the write must fail");
    // Checked at once, in the process that wrote: no sweep has run.
    assert.deepEqual(
      await listTree(join(dir, "out")),
      [],
      "a failed write left a temporary or a partial output",
    );
  });
});

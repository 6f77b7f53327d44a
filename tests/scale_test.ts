/**
 * The broker with many workers at once: 16 fake workers that speak the real
 * protocol over real tcp sockets (tests/scale_bench.ts `runFarm`) and answer
 * every task at once, against a real `serve --workers 0`. Speed is
 * `deno task scale-bench`'s business; this checks completion and fairness.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FakeWorker, freeEndpoint, SERVE_FLAGS, spawnZpix, withTempDir } from "./helpers.ts";
import { type Pace, pace, runFarm, serveArgs, tinyJpeg } from "./scale_bench.ts";

const IMAGES = 800, FAKES = 16;

/** `images` tiny JPEGs in `dir`/in, and a `serve --workers 0` of them to `dir`/out with `extra`. */
async function tinyServe(dir: string, images: number, extra: string[], quiet = true) {
  const input = join(dir, "in"), output = join(dir, "out");
  await Deno.mkdir(input);
  const jpeg = await tinyJpeg();
  for (let i = 0; i < images; i++) {
    await Deno.writeFile(join(input, `t${String(i).padStart(4, "0")}.jpg`), jpeg);
  }
  const endpoint = freeEndpoint();
  const args = serveArgs(endpoint, input, output, extra).filter((arg) =>
    quiet || arg !== "--quiet"
  );
  const server = spawnZpix(args, { flags: SERVE_FLAGS });
  return { output, jpeg, endpoint, server };
}

// [payload window, tasks a fake asks for at once (1: one `task` and one `result` a task)]
for (const [window, batch] of [[FAKES, 1], [FAKES / 2, 1], [4 * FAKES, 8]]) {
  Deno.test(`${FAKES} instant fake workers, --payload-window ${window}, batches of ${batch}: every image written, each worker's share within 20 % of the mean`, async () => {
    await withTempDir(async (dir) => {
      const { output, jpeg, endpoint, server } = await tinyServe(dir, IMAGES, [
        "--payload-window",
        String(window),
        "--batch",
        "8",
      ]);
      const ids = Array.from({ length: FAKES }, (_, i) => `fake${i}`);
      const stats = await runFarm(endpoint, ids, jpeg, undefined, batch);
      const done = await server.output;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, new RegExp(`processed ${IMAGES}/${IMAGES}`));
      const written = [...Deno.readDirSync(output)].map((e) => e.name);
      assert.equal(written.length, IMAGES, "one output an image, no temporary left");
      for (const name of written.slice(0, 20)) {
        assert.deepEqual(await Deno.readFile(join(output, name)), jpeg, name);
      }
      const counts = Object.values(stats.tasks);
      assert.equal(counts.reduce((a, b) => a + b, 0), IMAGES, "each task answered once");
      const mean = IMAGES / FAKES;
      for (const [id, count] of Object.entries(stats.tasks)) {
        assert.ok(
          Math.abs(count - mean) <= 0.2 * mean,
          `${id} did ${count} tasks, the mean is ${mean}: ${JSON.stringify(stats.tasks)}`,
        );
      }
      assert.ok(stats.broadcasts > 0, "the quit (at least) was heard on every SUB");
    });
  });
}

Deno.test("a paced fake that holds more than its batch reports with want 0, not a negative want the server refuses (its tasks then held until --task-timeout)", async () => {
  await withTempDir(async (dir) => {
    const images = 32, batch = 8;
    // Not --quiet: a refused message is a warning on stderr.
    const { jpeg, endpoint, server } = await tinyServe(
      dir,
      images,
      ["--batch", "16", "--task-timeout", "2"],
      false,
    );
    const fake = new FakeWorker(endpoint, "fake0");
    try {
      // Asking for 16 at once (as two results in flight, each asking for a full batch, add up to).
      await fake.join(16);
      const { message } = await fake.next();
      assert.equal(message.type, "tasks");
      if (message.type !== "tasks") throw new Error("unreachable");
      assert.equal(message.tasks.length, 16, "the server grants up to its own --batch");
      // Half its batch done, 12 more held: it reports now, as a real worker would.
      const state: Pace = {
        held: message.tasks.slice(4),
        done: message.tasks.slice(0, 4),
        grant: 16,
        busyUntil: Date.now() + 60_000,
      };
      const paces = new Map([[fake, state]]);
      assert.ok(pace(paces, jpeg, batch, 2), "a results message went out");
      // The rest at once; then each grant answered whole until every image is in.
      state.done = state.held.splice(0);
      pace(paces, jpeg, batch, 2);
      for (let answered = 16; answered < images;) {
        const next = (await fake.next()).message;
        assert.equal(next.type, "tasks", JSON.stringify(next));
        if (next.type !== "tasks") throw new Error("unreachable");
        await fake.succeedAll(next.tasks, jpeg, batch);
        answered += next.tasks.length;
      }
      // A hang guard, not a speed check: with a refused message the server waits for its tasks
      // forever (the worker is taken for lost at --task-timeout, and no other is there).
      let guard: ReturnType<typeof setTimeout> | undefined;
      const done = await Promise.race([
        server.output,
        new Promise<null>((resolve) => guard = setTimeout(() => resolve(null), 30_000)),
      ]);
      clearTimeout(guard);
      assert.ok(done, "the server finished");
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, new RegExp(`processed ${images}/${images}`));
      assert.doesNotMatch(done.stderr, /bad message|timed out/, "every results message counted");
    } finally {
      fake.close();
      try {
        server.child.kill();
      } catch {
        // exited already
      }
      await server.output;
    }
  });
});

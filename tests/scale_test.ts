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
import { freeEndpoint, SERVE_FLAGS, spawnZpix, withTempDir } from "./helpers.ts";
import { runFarm, serveArgs, tinyJpeg } from "./scale_bench.ts";

const IMAGES = 800, FAKES = 16;

// [payload window, tasks a fake asks for at once (1: one `task` and one `result` a task)]
for (const [window, batch] of [[FAKES, 1], [FAKES / 2, 1], [4 * FAKES, 8]]) {
  Deno.test(`${FAKES} instant fake workers, --payload-window ${window}, batches of ${batch}: every image written, each worker's share within 20 % of the mean`, async () => {
    await withTempDir(async (dir) => {
      const input = join(dir, "in"), output = join(dir, "out");
      await Deno.mkdir(input);
      const jpeg = await tinyJpeg();
      for (let i = 0; i < IMAGES; i++) {
        await Deno.writeFile(join(input, `t${String(i).padStart(4, "0")}.jpg`), jpeg);
      }
      const endpoint = freeEndpoint();
      const server = spawnZpix(
        serveArgs(endpoint, input, output, ["--payload-window", String(window), "--batch", "8"]),
        { flags: SERVE_FLAGS },
      );
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

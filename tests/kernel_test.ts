/**
 * `--kernel` end to end, with real files and real workers: a JPEG (the fused
 * path, with shrink-on-load) and a PNG resized with lanczos3 give the same
 * bytes sequentially, with local worker processes, and with a remote worker
 * that gets the pipeline over TCP; and not the bytes of the default filter.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeImage } from "../ops/codec.ts";
import { encodeJpegFast } from "../ops/kernels/mod.ts";
import { photoLikeImage } from "../ops/kernels/test_util.ts";
import { serveToRemoteWorker, withTempDir, zpix } from "./helpers.ts";

const NAMES = ["photo.jpg", "photo.png"];

async function outputs(folder: string): Promise<Uint8Array[]> {
  return await Promise.all(NAMES.map((name) => Deno.readFile(join(folder, name))));
}

Deno.test("--kernel lanczos3: sequential, parallel and a remote worker write the same bytes", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await Deno.mkdir(input);
    await Deno.writeFile(join(input, "photo.jpg"), encodeJpegFast(photoLikeImage(400, 300, 2), 90));
    const png = await encodeImage(photoLikeImage(60, 40, 3), "png", { quality: 75 });
    await Deno.writeFile(join(input, "photo.png"), png);
    // 400x300 → 96x72 decodes the JPEG at 1/2 (shrink-on-load); the PNG is enlarged
    const job = (out: string) => ["-i", input, "-o", join(dir, out), "-q", "--size", "96x72"];
    const runs: Record<string, Uint8Array[]> = {};
    for (
      const [name, args] of [
        ["linear", ["sequential", ...job("linear")]],
        ["sequential", ["sequential", ...job("sequential"), "--kernel", "lanczos3"]],
        ["parallel", ["parallel", ...job("parallel"), "--kernel", "lanczos3", "--workers", "2"]],
      ] as const
    ) {
      const run = await zpix([...args]);
      assert.equal(run.code, 0, `${name}: ${run.stderr}`);
      runs[name] = await outputs(join(dir, name));
    }
    const served = await serveToRemoteWorker([...job("remote"), "--kernel", "lanczos3"]);
    assert.equal(served.code, 0, `serve: ${served.stderr}`);
    runs.remote = await outputs(join(dir, "remote"));
    for (const [i, name] of NAMES.entries()) {
      assert.deepEqual(runs.parallel[i], runs.sequential[i], `${name}: parallel`);
      assert.deepEqual(runs.remote[i], runs.sequential[i], `${name}: remote worker`);
      assert.notDeepEqual(runs.linear[i], runs.sequential[i], `${name}: lanczos3 is applied`);
    }
  });
});

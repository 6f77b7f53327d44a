/**
 * Resize options end to end, with real files and real workers: a cover
 * position, contain's background colour, and no-enlarge, in sequential and
 * parallel mode (same bytes both ways).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage, encodeImage } from "../ops/codec.ts";
import { withTempDir, zpix } from "./helpers.ts";

/** A 96x48 PNG: left half red, right half blue. */
function halves(): Uint8Array {
  const data = new Uint8Array(96 * 48 * 4);
  for (let i = 0; i < 96 * 48; i++) {
    data.set(i % 96 < 48 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
  }
  return data;
}

async function pixel(path: string, x: number, y: number): Promise<number[]> {
  const { image } = await decodeImage(await Deno.readFile(path), { maxPixels: 1e8 });
  const at = (y * image.width + x) * 4;
  return [image.width, image.height, ...image.data.subarray(at, at + 4)];
}

Deno.test("--op resize with a position, a background and no-enlarge: sequential and parallel agree", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await Deno.mkdir(input);
    const png = await encodeImage({ width: 96, height: 48, data: halves() }, "png", {
      quality: 75,
    });
    await Deno.writeFile(join(input, "halves.png"), png);
    const runs: [string, string[], (out: string) => Promise<void>][] = [
      ["cover-right", ["--op", "resize=32x32:cover:right"], async (out) => {
        // the right part (blue) is kept: its far edge is blue, no red anywhere on it
        assert.deepEqual(await pixel(out, 31, 0), [32, 32, 0, 0, 255, 255]);
        assert.ok((await pixel(out, 8, 0))[2] === 0, "no red a quarter in");
      }],
      ["contain-top-white", ["--op", "resize=48x48:contain:top:bg=white"], async (out) => {
        assert.deepEqual(await pixel(out, 0, 0), [48, 48, 255, 0, 0, 255], "image at the top");
        assert.deepEqual(await pixel(out, 0, 47), [48, 48, 255, 255, 255, 255], "white bar below");
      }],
      ["contain-see-through", ["--op", "resize=48x48:contain:bg=transparent"], async (out) => {
        assert.deepEqual(await pixel(out, 0, 0), [48, 48, 0, 0, 0, 0], "PNG keeps a clear bar");
      }],
      ["no-enlarge", ["--op", "resize=400x400:inside:no-enlarge"], async (out) => {
        assert.deepEqual(await pixel(out, 0, 0), [96, 48, 255, 0, 0, 255], "not enlarged");
      }],
    ];
    for (const [name, args, check] of runs) {
      const bytes: Uint8Array[] = [];
      for (const mode of ["sequential", "parallel"]) {
        const output = join(dir, `${name}-${mode}`);
        const extra = mode === "parallel" ? ["--workers", "1"] : [];
        const run = await zpix([mode, "-i", input, "-o", output, "-q", ...args, ...extra]);
        assert.equal(run.code, 0, `${name} ${mode}: ${run.stderr}`);
        await check(join(output, "halves.png"));
        bytes.push(await Deno.readFile(join(output, "halves.png")));
      }
      assert.deepEqual(bytes[0], bytes[1], `${name}: same bytes in both modes`);
    }
  });
});

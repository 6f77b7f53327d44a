/**
 * The demo's built-in sample set: synthetic photos written as JPEG and PNG
 * (some with alpha), so `deno task demo` runs on a fresh clone.
 *
 * @module
 */

import { join } from "node:path";
import { encodeImage } from "../ops/codec.ts";
import { SAMPLE_SIZES, sampleImage } from "../ops/samples.ts";
import { writeAtomic } from "../core/atomic.ts";

/**
 * Writes `count` sample images to `dir` (every fourth a PNG, half of those
 * with alpha). Returns how many it wrote.
 */
export async function writeSamples(
  dir: string,
  count: number,
): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const [width, height] = SAMPLE_SIZES[i % SAMPLE_SIZES.length];
    const png = i % 4 === 3;
    const image = sampleImage(width, height, i + 1, png && i % 8 === 7);
    const bytes = await encodeImage(image, png ? "png" : "jpeg", {
      quality: 90,
    });
    writeAtomic(
      join(
        dir,
        `sample${String(i + 1).padStart(3, "0")}.${png ? "png" : "jpg"}`,
      ),
      bytes,
    );
  }
  return count;
}

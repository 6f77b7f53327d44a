/**
 * The fast JPEG encoder against MozJPEG on real photos: each photo is
 * decoded and resized to 512x512 as the pipeline does, then encoded by both
 * at the same quality; both files are decoded again and compared with the
 * resized image (PSNR over R, G, B) and with each other in size.
 *
 *   deno run --allow-read tests/quality_bench.ts [--input DIR] [--quality Q] [--count N]
 *
 * (The unit tests, `ops/kernels/jpeg_mozjpeg_test.ts`, hold the encoder to
 * 1 dB and 25 % of MozJPEG on generated images; this shows the spread on a
 * real folder, by default `../shared/datasets/photos`.)
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join } from "node:path";
import encodeMozjpeg from "@jsquash/jpeg/encode.js";
import { decodeImage } from "../ops/codec.ts";
import { applyPipeline, parseStep } from "../ops/pipeline.ts";
import { encodeJpegFast } from "../ops/kernels/mod.ts";
import { psnrRgb } from "../ops/kernels/test_util.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";

const { values } = benchArgs(import.meta.url, {
  args: Deno.args,
  options: {
    input: { type: "string", default: join(SOURCE_ROOT, "..", "shared", "datasets", "photos") },
    quality: { type: "string", default: "75" },
    count: { type: "string", default: "1000000" },
  },
});
const quality = Number(values.quality);
const names = [...Deno.readDirSync(values.input)].map((e) => e.name)
  .filter((name) => /\.jpe?g$/i.test(name)).sort().slice(0, Number(values.count));
const steps = [parseStep("resize=512x512")];

const rows: { name: string; dPsnr: number; ratio: number }[] = [];
for (const name of names) {
  const { image } = await decodeImage(Deno.readFileSync(join(values.input, name)));
  const resized = applyPipeline(image, steps);
  const fast = encodeJpegFast(resized, quality);
  const moz = new Uint8Array(
    await encodeMozjpeg({
      width: resized.width,
      height: resized.height,
      data: new Uint8ClampedArray(resized.data.buffer),
      colorSpace: "srgb",
    } as ImageData, { quality }),
  );
  const psnr = async (bytes: Uint8Array) =>
    psnrRgb(resized.data, (await decodeImage(bytes)).image.data);
  const dPsnr = (await psnr(fast)) - (await psnr(moz));
  // identical decodes on both sides (PSNR infinite) say nothing about the difference
  if (Number.isFinite(dPsnr)) rows.push({ name, dPsnr, ratio: fast.length / moz.length });
}

const spread = (values: number[], digits: number) => {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(digits);
  return `min ${at(0)}, median ${at(0.5)}, 90% ${at(0.9)}, max ${at(1)}`;
};
const within = rows.filter((r) => r.dPsnr >= -1 && r.ratio <= 1.25).length;
console.log(`${rows.length} photo(s) from ${values.input}, quality ${quality}, resized to 512x512`);
console.log(`PSNR fast - MozJPEG, dB: ${spread(rows.map((r) => r.dPsnr), 2)}`);
console.log(`size fast / MozJPEG:     ${spread(rows.map((r) => r.ratio), 3)}`);
console.log(`within 1 dB and 25 %:    ${within} of ${rows.length}`);

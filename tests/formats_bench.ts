/**
 * Measures issue 14's figures on the inputs tests/formats_bench.py makes:
 * - colour error: PSNR of zpix's decoded pixels against Pillow + LittleCMS's
 *   true sRGB, with the profile ignored (zpix before, = --keep-icc) and
 *   converted (now), per profile kind;
 * - the cost of colour management per image: with a profile (conversion),
 *   and without one (the profile check alone);
 * - decode and encode milliseconds per format, against the JPEG path.
 *
 *     /usr/bin/python3 tests/formats_bench.py 100 /tmp/zpix-formats-bench
 *     deno run --allow-read tests/formats_bench.ts [/tmp/zpix-formats-bench]
 *
 * The folder is the one formats_bench.py wrote (its default above).
 */

import process from "node:process";
import type { Format } from "../ops/formats.ts";
import { decodeAny, encodeAny } from "../ops/format_io.ts";
import { processBytes } from "../task/task.ts";
import { applyPipeline } from "../ops/pipeline.ts";
import { fitPipeline } from "./helpers.ts";
import { benchArgs } from "./bench_args.ts";
import { decodeImage } from "../ops/codec.ts";
import { readJpegIcc } from "../ops/icc.ts";
import { needsConversion } from "../ops/color.ts";
import { encodeJpegFast } from "../ops/kernels/mod.ts";
import { transcodeJpegFast } from "../ops/transcode.ts";
import { psnrRgb } from "../ops/kernels/test_util.ts";
import type { Image } from "../ops/image.ts";

const root = benchArgs(import.meta.url, { options: {}, allowPositionals: true }).positionals[0] ??
  "/tmp/zpix-formats-bench";
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x: number) => x.toFixed(2);
/** CPU milliseconds (user + system) of this process so far: steadier than wall time on a shared machine. */
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

// --- colour ---
const colour = `${root}/colour`;
const files = [...Deno.readDirSync(colour)].map((e) => e.name).filter((n) => n.endsWith(".jpg"))
  .sort();
console.log(
  "profile     n   PSNR before (min/median)  PSNR after (min/median)  convert CPU ms/img",
);
for (const kind of ["prophoto", "adobergb", "p3"]) {
  const before: number[] = [], after: number[] = [], cost: number[] = [];
  for (const name of files.filter((n) => n.endsWith(`_${kind}.jpg`))) {
    const bytes = Deno.readFileSync(`${colour}/${name}`);
    const ref =
      (await decodeImage(Deno.readFileSync(`${colour}/${name.replace(".jpg", ".ref.png")}`)))
        .image;
    const t0 = cpuNow();
    const kept = await decodeAny(bytes, { keepIcc: true });
    const t1 = cpuNow();
    const converted = await decodeAny(bytes);
    const t2 = cpuNow();
    before.push(psnrRgb(kept.image.data, ref.data));
    after.push(psnrRgb(converted.image.data, ref.data));
    cost.push((t2 - t1) - (t1 - t0));
  }
  console.log(
    `${kind.padEnd(10)} ${before.length}   ${fmt(Math.min(...before))} / ${fmt(median(before))}` +
      `            ${fmt(Math.min(...after))} / ${fmt(median(after))}            ${
        fmt(median(cost.slice(1)))
      } (first: ${fmt(cost[0])}, LittleCMS load)`,
  );
}

// --- the no-profile path ---
const formats = `${root}/formats`;
const jpegs = [...Deno.readDirSync(formats)].map((e) => e.name).filter((n) => n.endsWith(".jpg"))
  .sort().map((n) => Deno.readFileSync(`${formats}/${n}`));
let t = performance.now();
let hits = 0;
for (let r = 0; r < 20; r++) for (const b of jpegs) if (needsConversion(readJpegIcc(b))) hits++;
const checkUs = (performance.now() - t) / (20 * jpegs.length) * 1000;
const steps = [{ op: "resize" as const, width: 512, height: 512, fit: "fill" as const }];
for (const b of jpegs.slice(0, 5)) transcodeJpegFast(b, steps, 75, 1e8); // warm up
t = performance.now();
for (const b of jpegs) transcodeJpegFast(b, steps, 75, 1e8);
const fusedMs = (performance.now() - t) / jpegs.length;
console.log(
  `\nno profile: the ICC check costs ${checkUs.toFixed(1)} µs per JPEG (${hits} flagged) ` +
    `against ${fmt(fusedMs)} ms for the fused decode+resize+encode`,
);

// --- per-format decode and encode ---
console.log("\nformat  decode CPU ms (median, first call incl. codec load)   bytes (mean)");
const decodedImages: Image[] = [];
for (const ext of ["jpg", "png", "webp", "avif", "heic", "gif"]) {
  const inputs = [...Deno.readDirSync(formats)].map((e) => e.name).filter((n) =>
    n.endsWith(`.${ext}`)
  ).sort().map((n) => Deno.readFileSync(`${formats}/${n}`));
  const times: number[] = [];
  for (const b of inputs) {
    const s = cpuNow();
    const d = await decodeAny(b);
    times.push(cpuNow() - s);
    if (ext === "png") decodedImages.push(d.image);
  }
  console.log(
    `${ext.padEnd(6)}  ${fmt(median(times.slice(1)))} (first ${fmt(times[0])})` +
      `                          ${Math.round(mean(inputs.map((b) => b.length)))}`,
  );
}
console.log("\nencoder       encode CPU ms (median, first call incl. codec load)   bytes (mean)");
const encoders: [string, (im: Image) => Promise<Uint8Array>][] = [
  ["jpeg fast", (im) => Promise.resolve(encodeJpegFast(im, 75))],
  ["jpeg mozjpeg", (im) => encodeAny(im, "jpeg", { quality: 75 })],
  ["png", (im) => encodeAny(im, "png", { quality: 75 })],
  ["webp", (im) => encodeAny(im, "webp" as Format & "webp", { quality: 75 })],
  ["avif", (im) => encodeAny(im, "avif", { quality: 75 })],
];
for (const [name, encode] of encoders) {
  const times: number[] = [], sizes: number[] = [];
  for (const im of decodedImages.slice(0, name === "avif" ? 30 : 100)) {
    const s = cpuNow();
    const out = await encode(im);
    times.push(cpuNow() - s);
    sizes.push(out.length);
  }
  console.log(
    `${name.padEnd(12)}  ${fmt(median(times.slice(1)))} (first ${fmt(times[0])})` +
      `                          ${Math.round(mean(sizes))}`,
  );
}

// --- a P3 photo on the fused path (converted after the shrunk decode) vs the general path ---
const big = `${root}/big`;
const pipeline = fitPipeline(512, "same", 75);
const cpu = async (
  label: string,
  inputs: Uint8Array[],
  run: (b: Uint8Array) => Promise<unknown>,
) => {
  await run(inputs[0]);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const b of inputs) await run(b);
  const c = process.cpuUsage(c0);
  console.log(
    `${label.padEnd(44)} ${fmt((performance.now() - t0) / inputs.length)} ms wall, ${
      fmt((c.user + c.system) / 1000 / inputs.length)
    } ms CPU`,
  );
};
const bigOf = (kind: string) =>
  [...Array(10).keys()].map((i) => Deno.readFileSync(`${big}/${i}_${kind}.jpg`));
console.log("\n2400x1800 JPEG -> resize=512x512:inside, per image");
await cpu("sRGB, fused path", bigOf("srgb"), (b) => processBytes(b, pipeline));
await cpu("Display P3, fused path + LittleCMS", bigOf("p3"), (b) => processBytes(b, pipeline));
await cpu("Display P3, general path (full-size convert)", bigOf("p3"), async (b) => {
  const d = await decodeAny(b);
  encodeJpegFast(applyPipeline(d.image, pipeline.steps), 75);
});

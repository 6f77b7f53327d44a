/**
 * Tests for ops/transcode.ts: the fused path gives byte for byte what the
 * general path (decodeImage → applyPipeline → flattenOnWhite →
 * encodeJpegFast) gives, for every op and fit mode, on colour and gray
 * JPEGs of awkward sizes (baseline, progressive, CMYK/YCCK); and it declines what it does not take.
 * Reads tests/fixtures (run with --allow-read).
 */

import assert from "node:assert/strict";
import { decodeImage, encodeImage, flattenOnWhite } from "./codec.ts";
import { applyPipeline, parseStep, type Step } from "./pipeline.ts";
import { encodeJpegFast } from "./kernels/mod.ts";
import { photoLikeImage, psnrRgb } from "./kernels/test_util.ts";
import { shrinkOnLoad, transcodeJpegFast } from "./transcode.ts";
import { readJpegInfo } from "./jpeg_markers.ts";

const FIXTURES = new URL("../tests/fixtures/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIXTURES));

async function general(bytes: Uint8Array, steps: Step[], quality: number) {
  const { image } = await decodeImage(bytes);
  const out = applyPipeline(image, steps);
  return {
    bytes: encodeJpegFast({ ...out, data: flattenOnWhite(out.data) }, quality),
    width: out.width,
    height: out.height,
  };
}

const PIPELINES = [
  [],
  ["resize=512x512"],
  ["resize=64x40"],
  ["resize=97x13:contain"],
  ["resize=50x50:cover"],
  ["resize=300x100:inside"],
  ["resize=1x1"],
  ["to_gray"],
  ["threshold=100"],
  ["flip=h"],
  ["flip=v"],
  ["flip=hv"],
  ["resize=120x90:contain", "to_gray", "threshold=128", "flip=hv"],
  ["flip=h", "resize=33x77:cover", "to_gray"],
  ["resize=50x50:cover:bottom-right"],
  ["resize=97x13:contain:left:bg=#ff880080"],
  ["resize=4000x4000:inside:no-enlarge"],
  ["resize=4000x30:cover:no-enlarge:top"],
].map((texts) => texts.map(parseStep));

const INPUTS: [string, Uint8Array][] = [
  ["photo-like 203x151 q85", encodeJpegFast(photoLikeImage(203, 151), 85)],
  ["photo-like 16x16 q50", encodeJpegFast(photoLikeImage(16, 16, 3), 50)],
  ["gray baseline fixture", fixture("quad_gray.jpg")],
  ["4:2:0 with restarts fixture", fixture("texture_420_rst1.jpg")],
  ["4:2:2 with restarts fixture", fixture("texture_422_rst1b.jpg")],
  ["EXIF orientation 1 fixture", fixture("orient_1.jpg")],
  ["progressive fixture", fixture("quad_progressive.jpg")],
  ["progressive 4:2:0 fixture", fixture("texture_420_prog.jpg")],
  ["YCCK fixture", fixture("quad_cmyk.jpg")],
  ["progressive YCCK 4:2:0 fixture", fixture("texture_ycck_prog.jpg")],
];

for (const [name, bytes] of INPUTS) {
  Deno.test(`transcodeJpegFast: ${name}: same bytes as the general path, every op`, async () => {
    for (const steps of PIPELINES) {
      for (const quality of [75, 92]) {
        const fused = transcodeJpegFast(bytes, steps, quality, 1e8);
        assert.ok(fused, `${name} is taken by the fused path`);
        const expected = await general(bytes, steps, quality);
        const label = `${name} | ${steps.map((s) => s.op).join(",")} q${quality}`;
        assert.equal(fused.width, expected.width, label);
        assert.equal(fused.height, expected.height, label);
        if (shrinkOnLoad(readJpegInfo(bytes)!, steps[0]) === 1) {
          assert.deepEqual(fused.bytes, expected.bytes, label);
        } // else decoded at 1/8 (tested below)
        assert.equal(fused.steps.length, steps.length);
        assert.ok(fused.decode >= 0 && fused.encode >= 0);
      }
    }
  });
}

Deno.test("transcodeJpegFast: declines what the general path must handle", async () => {
  const steps = [parseStep("resize=32x32")];
  const photo = encodeJpegFast(photoLikeImage(40, 30), 80);
  const declined: [string, Uint8Array, number][] = [
    ["PNG", await encodeImage(photoLikeImage(8, 8), "png", { quality: 75 }), 1e8],
    ["EXIF orientation 6 (turns the image)", fixture("orient_6.jpg"), 1e8],
    ["truncated JPEG", photo.subarray(0, photo.length - 40), 1e8],
    ["over the pixel limit", photo, 40 * 30 - 1],
    ["not an image", new TextEncoder().encode("hello"), 1e8],
  ];
  for (const [name, bytes, maxPixels] of declined) {
    assert.equal(transcodeJpegFast(bytes, steps, 75, maxPixels), null, name);
  }
  // and the same photo within the limit is taken
  assert.ok(transcodeJpegFast(photo, steps, 75, 40 * 30));
});

Deno.test("transcodeJpegFast: a big image after a small one (the wasm memory grows and is reused)", async () => {
  const small = encodeJpegFast(photoLikeImage(20, 10), 80);
  const big = encodeJpegFast(photoLikeImage(1400, 900), 80);
  // an upscale: no shrink on load, so the general path's bytes are the reference
  const steps = [parseStep("resize=1500x1000:contain"), parseStep("to_gray")];
  for (const bytes of [small, big, small, big]) {
    const fused = transcodeJpegFast(bytes, steps, 75, 1e8)!;
    assert.deepEqual(fused.bytes, (await general(bytes, steps, 75)).bytes);
  }
});

Deno.test("shrinkOnLoad: the largest of 1/8, 1/4, 1/2 that leaves the resize enough pixels", () => {
  const resize = (text: string) => parseStep(text);
  const big = { width: 6000, height: 4000 };
  assert.equal(shrinkOnLoad(big, resize("resize=512x512:inside")), 8); // 512x341
  assert.equal(shrinkOnLoad(big, resize("resize=750x500")), 8);
  assert.equal(shrinkOnLoad(big, resize("resize=751x500")), 4);
  assert.equal(shrinkOnLoad(big, resize("resize=512x512")), 4); // fill: 4000 / 512 < 8
  assert.equal(shrinkOnLoad(big, resize("resize=512x512:cover")), 4); // 768x512 before the crop
  assert.equal(shrinkOnLoad(big, resize("resize=2000x2000")), 2);
  assert.equal(shrinkOnLoad(big, resize("resize=3001x2000")), 1);
  assert.equal(shrinkOnLoad({ width: 4000, height: 3000 }, resize("resize=512x512:inside")), 4);
  assert.equal(shrinkOnLoad(big, parseStep("to_gray")), 1);
  assert.equal(shrinkOnLoad(big, undefined), 1);
});

Deno.test("transcodeJpegFast shrinks on load: same size, close to the full decode", async () => {
  const source = photoLikeImage(1700, 1100, 9);
  const cases = [
    ["resize=200x120", 8, 30],
    ["resize=150x150:contain", 8, 30],
    ["resize=400x250", 4, 30],
    ["resize=600x400:cover", 2, 30],
  ] as const;
  for (const [text, scale, minPsnr] of cases) {
    const bytes = encodeJpegFast(source, 90);
    const steps = [parseStep(text), parseStep("flip=h")];
    assert.equal(shrinkOnLoad({ width: 1700, height: 1100 }, steps[0]), scale);
    const fused = transcodeJpegFast(bytes, steps, 92, 1e8)!;
    const expected = await general(bytes, steps, 92);
    assert.equal(fused.width, expected.width, text);
    assert.equal(fused.height, expected.height, text);
    const a = (await decodeImage(fused.bytes)).image, b = (await decodeImage(expected.bytes)).image;
    const psnr = psnrRgb(a.data, b.data);
    assert.ok(psnr >= minPsnr, `${text}: PSNR ${psnr.toFixed(1)} dB against the full decode`);
  }
  // narrow: 4:2:0 at 1/8 needs no chroma upsampling (libjpeg takes a 2x2 IDCT
  // for it), so it is decoded at 1/8 too
  const narrow = encodeJpegFast(photoLikeImage(32, 400), 90);
  const steps = [parseStep("resize=4x50")];
  assert.equal(shrinkOnLoad({ width: 32, height: 400 }, steps[0]), 8);
  const fused = transcodeJpegFast(narrow, steps, 92, 1e8)!;
  const expected = await general(narrow, steps, 92);
  const psnr = psnrRgb(
    (await decodeImage(fused.bytes)).image.data,
    (await decodeImage(expected.bytes)).image.data,
  );
  assert.ok(psnr >= 30, `narrow: PSNR ${psnr.toFixed(1)} dB against the full decode`);
});

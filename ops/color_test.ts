/** Colour conversion: slices of a large image, gray profiles, alpha kept. */

import assert from "node:assert/strict";
import { convertToSrgb } from "./color.ts";
import { photoLikeImage } from "./kernels/test_util.ts";

const DIR = new URL("../tests/fixtures/formats/", import.meta.url);
const prophoto = Deno.readFileSync(new URL("prophoto.icc", DIR));

Deno.test("color: an image over one slice converts as its pixels do one by one, alpha kept", async () => {
  const big = photoLikeImage(1100, 1000); // 1.1 megapixels: two slices
  for (let i = 3; i < big.data.length; i += 4) big.data[i] = i % 251;
  const whole = await convertToSrgb(big, prophoto);
  assert.match(whole.note ?? "", /ProPhoto/);
  // the last row alone (a small image: one slice) gives the same pixels
  const row = { width: 1100, height: 1, data: big.data.slice(-1100 * 4) };
  const alone = await convertToSrgb(row, prophoto);
  assert.deepEqual(whole.image.data.subarray(-1100 * 4), alone.image.data);
  for (let i = 3; i < big.data.length; i += 4 * 997) assert.equal(whole.image.data[i], i % 251);
});

Deno.test("color: a gray profile converts gray pixels to sRGB gray", async () => {
  // A minimal ICC v2 gray profile: wtpt D50 and a gamma 1.0 kTRC (linear gray).
  const icc = grayProfile(256); // gamma 1.0 in u8Fixed8
  const image = {
    width: 3,
    height: 1,
    data: new Uint8Array([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 200]),
  };
  const r = await convertToSrgb(image, icc);
  assert.equal(r.warning, null);
  const d = r.image.data;
  assert.deepEqual([d[0], d[8], d[11]], [0, 255, 200]);
  // linear 0.5 is sRGB ~188
  assert.ok(Math.abs(d[4] - 188) <= 2 && d[4] === d[5] && d[5] === d[6], String(d.subarray(4, 8)));
});

function grayProfile(gamma: number): Uint8Array {
  const out = new Uint8Array(128 + 4 + 24 + 20 + 16);
  const v = new DataView(out.buffer);
  const enc = new TextEncoder();
  v.setUint32(0, out.length);
  out.set([2, 0x10, 0, 0], 8);
  out.set(enc.encode("mntrGRAYXYZ "), 12);
  out.set(enc.encode("acsp"), 36);
  v.setUint32(128, 2);
  out.set(enc.encode("wtpt"), 132);
  v.setUint32(136, 156);
  v.setUint32(140, 20);
  out.set(enc.encode("kTRC"), 144);
  v.setUint32(148, 176);
  v.setUint32(152, 14);
  out.set(enc.encode("XYZ "), 156);
  [0.9642, 1, 0.8249].forEach((x, i) => v.setInt32(164 + 4 * i, Math.round(x * 65536)));
  out.set(enc.encode("curv"), 176);
  v.setUint32(184, 1);
  v.setUint16(188, gamma);
  return out;
}

Deno.test("color: CMYK inks through a CMYK profile match LittleCMS via Pillow", async () => {
  const { convertCmykToSrgb } = await import("./color.ts");
  const { decodeImage } = await import("./codec.ts");
  const { psnrRgb } = await import("./kernels/test_util.ts");
  const icc = Deno.readFileSync(new URL("cmyk_naive.icc", DIR));
  // the samples of make_formats.py's cmyk_samples()
  const cmyk = new Uint8Array(1024 * 4);
  for (let i = 0; i < 1024; i++) {
    cmyk.set([(i * 37) % 256, (i * 91) % 256, (i * 53) % 256, (i * 29) % 256], 4 * i);
  }
  const got = await convertCmykToSrgb(cmyk, 32, 32, icc);
  const ref = (await decodeImage(Deno.readFileSync(new URL("expected/cmyk_naive.icc.png", DIR))))
    .image;
  const psnr = psnrRgb(got.data, ref.data);
  assert.ok(psnr >= 45, `${psnr.toFixed(1)} dB`);
  assert.equal(got.data[3], 255);
  await assert.rejects(convertCmykToSrgb(cmyk, 32, 32, prophoto), /not a CMYK/);
  // an RGB image tagged with a CMYK profile (inks already turned to RGB): a warning, pixels kept
  const r = await convertToSrgb(photoLikeImage(4, 4), icc);
  assert.match(r.warning ?? "", /CMYK/);
});

/** nclx code points → ICC profiles, checked against the fixture made with `avifenc --cicp 12/13/6`. */

import assert from "node:assert/strict";
import { nclxToIcc } from "./nclx.ts";
import { describeIcc, inflateIcc, isSrgbProfile, readPngIccCompressed } from "./icc.ts";
import { convertToSrgb } from "./color.ts";
import { decodeAny } from "./format_io.ts";
import { decodeImage } from "./codec.ts";
import { photoLikeImage, psnrRgb } from "./kernels/test_util.ts";

const DIR = new URL("../tests/fixtures/formats/", import.meta.url);
const read = (name: string) => Deno.readFileSync(new URL(name, DIR));
const nclx = (primaries: number, transfer: number) => ({
  primaries,
  transfer,
  matrix: 6,
  fullRange: true,
});

Deno.test("nclx: sRGB and unspecified need nothing; HDR and unknown code points are refused", () => {
  assert.deepEqual(nclxToIcc(nclx(1, 13)), { kind: "srgb" });
  assert.deepEqual(nclxToIcc(nclx(2, 2)), { kind: "srgb" });
  assert.equal(nclxToIcc(nclx(9, 16)).kind, "unsupported");
  assert.equal(nclxToIcc(nclx(77, 13)).kind, "unsupported");
});

Deno.test("nclx: P3 gives a profile that converts like the fixtures' Display P3 ICC", async () => {
  const p3 = nclxToIcc(nclx(12, 13));
  assert.equal(p3.kind, "profile");
  if (p3.kind !== "profile") return;
  assert.equal(isSrgbProfile(p3.icc), false);
  assert.match(describeIcc(p3.icc), /Display P3/);
  const reference = await inflateIcc(readPngIccCompressed(read("png_p3.png"))!);
  const image = photoLikeImage(64, 64);
  const a = await convertToSrgb(image, p3.icc), b = await convertToSrgb(image, reference);
  assert.ok(psnrRgb(a.image.data, b.image.data) >= 50);
  // BT.709 primaries with the sRGB curve is sRGB itself: recognised as such
  assert.deepEqual(nclxToIcc(nclx(1, 2)), { kind: "srgb" });
});

Deno.test("nclx: an AVIF declaring P3 by code points is converted like the reference", async () => {
  const d = await decodeAny(read("avif_p3_nclx.avif"));
  assert.ok(d.notes.some((n) => /Display P3 primaries, sRGB transfer/.test(n)), String(d.notes));
  const ref = (await decodeImage(read("expected/avif_p3_nclx.avif.png"))).image;
  const psnr = psnrRgb(d.image.data, ref.data);
  assert.ok(psnr >= 45, `${psnr.toFixed(1)} dB`);
});

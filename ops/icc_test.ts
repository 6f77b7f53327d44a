/**
 * ICC profile finding, sRGB recognition and embedding, on the fixtures'
 * profiles (tests/fixtures/formats: ProPhoto split over two JPEG APP2
 * markers, LittleCMS's built-in sRGB as Pillow writes it) and on hostile
 * variants.
 */

import assert from "node:assert/strict";
import {
  describeIcc,
  embedJpegIcc,
  embedPngIcc,
  embedWebpIcc,
  inflateIcc,
  isSrgbProfile,
  MAX_ICC_BYTES,
  readJpegIcc,
  readPngIccCompressed,
  readWebpIcc,
} from "./icc.ts";
import { convertToSrgb } from "./color.ts";
import { decodeAny } from "./format_io.ts";
import { encodeImage } from "./codec.ts";

const DIR = new URL("../tests/fixtures/formats/", import.meta.url);
const read = (name: string) => Deno.readFileSync(new URL(name, DIR));

Deno.test("icc: a profile split over two APP2 markers is put back together", () => {
  const icc = readJpegIcc(read("jpeg_prophoto.jpg"));
  assert.deepEqual(icc, read("prophoto.icc"));
  assert.equal(describeIcc(icc!), "ProPhoto RGB (zpix test)");
});

Deno.test("icc: chunks that do not add up give no profile", () => {
  const jpeg = read("jpeg_prophoto.jpg");
  const at = jpeg.indexOf(0xe2, 2); // first APP2 marker byte
  const seq = at + 3 + 12; // sequence number of the first chunk
  const bad = jpeg.slice();
  bad[seq] = 2; // two chunks numbered 2
  assert.equal(readJpegIcc(bad), null);
  const zero = jpeg.slice();
  zero[seq + 1] = 0; // count 0
  assert.equal(readJpegIcc(zero), null);
  assert.equal(readJpegIcc(jpeg.subarray(0, at + 10)), null);
});

Deno.test("icc: sRGB profiles are recognised without a CMS; wide-gamut ones are not", async () => {
  assert.equal(isSrgbProfile(readJpegIcc(read("jpeg_srgb_icc.jpg"))!), true);
  assert.equal(isSrgbProfile(read("prophoto.icc")), false);
  assert.equal(isSrgbProfile(readJpegIcc(read("jpeg_adobergb.jpg"))!), false);
  const p3 = await inflateIcc(readPngIccCompressed(read("png_p3.png"))!);
  assert.equal(isSrgbProfile(p3!), false); // sRGB's curve, P3's primaries
  assert.deepEqual(readWebpIcc(read("webp_p3.webp")), p3);
  assert.equal(isSrgbProfile(new Uint8Array(200)), false);
});

Deno.test("icc: an inflated profile over the limit is refused (zip bomb)", async () => {
  const zeros = new Uint8Array(MAX_ICC_BYTES + 1024);
  const stream = new Blob([zeros]).stream().pipeThrough(new CompressionStream("deflate"));
  const z = new Uint8Array(await new Response(stream).arrayBuffer());
  assert.equal(await inflateIcc(z), null);
  assert.equal(await inflateIcc(new Uint8Array([1, 2, 3])), null);
});

Deno.test("icc: embedded profiles read back (JPEG over 64 KB split, PNG, WebP simple and extended)", async () => {
  const big = new Uint8Array(150_000).map((_, i) => i * 7); // three APP2 chunks
  assert.deepEqual(readJpegIcc(embedJpegIcc(await plain("jpeg"), big)), big);
  const icc = read("prophoto.icc");
  const png = await embedPngIcc(await plain("png"), icc);
  assert.deepEqual(await inflateIcc(readPngIccCompressed(png)!), icc);
  for (const name of ["webp_lossy.webp", "webp_alpha.webp"]) {
    const webp = embedWebpIcc(read(name), icc);
    assert.deepEqual(readWebpIcc(webp), icc, name);
    const d = await decodeAny(webp, { keepIcc: true });
    assert.equal(d.image.width, 64, name);
  }
});

function plain(format: "jpeg" | "png"): Promise<Uint8Array> {
  return encodeImage({ width: 2, height: 2, data: new Uint8Array(16).fill(200) }, format, {
    quality: 75,
  });
}

Deno.test("icc: damaged profiles never fail or crash a decode: a warning, pixels kept", async () => {
  const jpeg = read("jpeg_adobergb.jpg");
  const icc = readJpegIcc(jpeg)!;
  const start = jpeg.indexOf(icc[0], 20); // where the profile's bytes begin in the file
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let k = 0; k < 60; k++) {
    const bad = jpeg.slice();
    for (let j = 0; j < 6; j++) {
      bad[start + Math.floor(rnd() * icc.length)] = Math.floor(rnd() * 256);
    }
    const d = await decodeAny(bad);
    assert.equal(d.image.width, 64);
  }
  const garbage = await convertToSrgb(
    { width: 1, height: 1, data: new Uint8Array(4) },
    new Uint8Array(300).fill(0x41),
  );
  assert.match(garbage.warning ?? "", /unreadable ICC profile/);
});

/** The HEIF/AVIF container reader on the fixtures (made by avifenc/heif-enc) and on hostile bytes. */

import assert from "node:assert/strict";
import { readBrands, readHeif } from "./isobmff.ts";
import { applyHeifTransforms } from "./codecs/transforms.ts";

const DIR = new URL("../tests/fixtures/formats/", import.meta.url);
const read = (name: string) => Deno.readFileSync(new URL(name, DIR));

Deno.test("isobmff: brands, size, profile and transforms of the primary image", () => {
  assert.ok(readBrands(read("avif_plain.avif"))!.includes("avif"));
  assert.ok(readBrands(read("heic_plain.heic"))!.includes("heic"));
  const rotated = readHeif(read("avif_rotated.avif"))!;
  assert.deepEqual([rotated.width, rotated.height], [64, 48]);
  assert.deepEqual(rotated.transforms, [{ kind: "irot", angle: 1 }, { kind: "imir", axis: 1 }]);
  const cropped = readHeif(read("avif_cropped.avif"))!;
  assert.equal(cropped.transforms[0].kind, "clap");
  assert.equal(readHeif(read("heic_prophoto.heic"))!.icc!.length, read("prophoto.icc").length);
  assert.equal(readHeif(read("avif_plain.avif"))!.nclx!.primaries, 1);
});

Deno.test("isobmff: transforms turn and mirror like libheif", () => {
  // 2x1: [A B]; irot 1 (90 degrees anticlockwise) gives [B; A]; imir 1 mirrors left-right.
  const img = { width: 2, height: 1, data: new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2]) };
  const turned = applyHeifTransforms(img, [{ kind: "irot", angle: 1 }]);
  assert.deepEqual([turned.width, turned.height, turned.data[0], turned.data[4]], [1, 2, 2, 1]);
  const mirrored = applyHeifTransforms(img, [{ kind: "imir", axis: 1 }]);
  assert.deepEqual([mirrored.data[0], mirrored.data[4]], [2, 1]);
});

Deno.test("isobmff: truncated and garbled containers give null or partial info, never throw", () => {
  const bytes = read("heic_prophoto.heic");
  let seed = 3;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let cut = 0; cut < bytes.length; cut += 37) readHeif(bytes.subarray(0, cut));
  for (let k = 0; k < 300; k++) {
    const bad = bytes.slice();
    for (let j = 0; j < 8; j++) bad[Math.floor(rnd() * 400)] = Math.floor(rnd() * 256);
    readHeif(bad);
  }
  assert.equal(readHeif(new Uint8Array(64)), null);
});

Deno.test("isobmff: a profile added to an AVIF with alpha reads back; garbage is refused, not thrown", async () => {
  const { encodeAny, decodeAny } = await import("./format_io.ts");
  const { addIccToHeif } = await import("./isobmff.ts");
  const icc = read("prophoto.icc");
  const withAlpha = (await decodeAny(read("webp_alpha.webp"))).image;
  const avif = await encodeAny(withAlpha, "avif", { quality: 80 });
  const tagged = addIccToHeif(avif, icc)!;
  assert.deepEqual(readHeif(tagged)!.icc, icc);
  const back = (await decodeAny(tagged, { keepIcc: true })).image;
  const plain = (await decodeAny(avif)).image;
  assert.deepEqual(back.data, plain.data); // alpha item and pixels untouched
  for (let cut = 0; cut < avif.length; cut += 29) addIccToHeif(avif.subarray(0, cut), icc);
  assert.equal(addIccToHeif(new Uint8Array(40), icc), null);
});

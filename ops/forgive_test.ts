/**
 * Faults libjpeg/libpng only warn about are warnings here too, and what is
 * really unsupported is refused by name. Fixtures are made from the shipped
 * quad images (tests/fixtures) by editing their bytes; `quad_arith.jpg` is
 * `cjpeg -arithmetic`'s, `quad_arith_pil.png` Pillow's pixels of it.
 */

import assert from "node:assert/strict";
import { DecodeError, decodeImage } from "./codec.ts";
import { pngChunk } from "./png_chunks.ts";
import { tryDecodePngFast } from "./png_decode.ts";
import { checkPngChunks, forgivePng } from "./png_repair.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../tests/fixtures/${name}`, import.meta.url));

async function refusal(bytes: Uint8Array): Promise<string> {
  try {
    await decodeImage(bytes);
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
    return e.message;
  }
  throw new Error("decoded");
}

/** Offset of the first `FF m` marker in a JPEG. */
function markerAt(jpeg: Uint8Array, m: number): number {
  for (let i = 2; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === m) return i;
  throw new Error(`no marker ${m.toString(16)}`);
}

/** `quad_baseline.jpg` with its SOF0 marker byte replaced by `sof`. */
function withSof(sof: number): Uint8Array {
  const b = fixture("quad_baseline.jpg").slice();
  b[markerAt(b, 0xc0) + 1] = sof;
  return b;
}

Deno.test("an arithmetic-coded JPEG decodes to libjpeg-turbo's pixels; a damaged one is a DecodeError", async () => {
  const arith = fixture("quad_arith.jpg");
  const d = await decodeImage(arith);
  assert.deepEqual(d.image, (await decodeImage(fixture("quad_arith_pil.png"))).image);
  assert.deepEqual([d.notes, d.warnings], [[], []]);
  // Huffman data in a frame that says arithmetic
  assert.match(await refusal(withSof(0xc9)), /^corrupt arithmetic-coded JPEG data/);
  for (let cut = 3; cut < arith.length; cut += 7) {
    try {
      await decodeImage(arith.slice(0, cut));
    } catch (e) {
      assert.ok(e instanceof DecodeError, `cut at ${cut}: ${e}`);
    }
  }
});

Deno.test("unsupported JPEG processes are refused by name, not called corrupt", async () => {
  assert.equal(await refusal(withSof(0xc3)), "lossless JPEG is not supported");
  assert.equal(await refusal(withSof(0xcb)), "lossless JPEG is not supported");
  assert.equal(await refusal(withSof(0xc5)), "hierarchical JPEG is not supported");
  // a DHP segment (hierarchical) before a baseline frame header
  const plain = fixture("quad_baseline.jpg");
  const at = markerAt(plain, 0xc0);
  const sof = plain.subarray(at, at + 2 + ((plain[at + 2] << 8) | plain[at + 3]));
  const dhp = sof.slice();
  dhp[1] = 0xde;
  const hier = new Uint8Array([...plain.subarray(0, at), ...dhp, ...plain.subarray(at)]);
  assert.equal(await refusal(hier), "hierarchical JPEG is not supported");
});

Deno.test("a garbage precision byte is corrupt data; 12 bits is unsupported", async () => {
  const b = fixture("quad_baseline.jpg").slice();
  const p = markerAt(b, 0xc0) + 4;
  b[p] = 159;
  assert.equal(
    await refusal(b),
    "corrupt JPEG data (invalid sample precision 159 in the frame header)",
  );
  b[p] = 12;
  assert.equal(await refusal(b), "12-bit JPEG is not supported (only 8-bit samples)");
});

Deno.test("a stray marker after a complete baseline image is a warning (libjpeg has every pixel)", async () => {
  const clean = fixture("quad_baseline.jpg");
  const want = (await decodeImage(clean)).image;
  const at = markerAt(clean, 0xc0);
  const sof = clean.subarray(at, at + 2 + ((clean[at + 2] << 8) | clean[at + 3]));
  const eoi = clean.length - 2;
  for (const [stray, name] of [[sof, "C0"], [[0xff, 0xd8], "D8"]] as const) {
    const bytes = new Uint8Array([...clean.subarray(0, eoi), ...stray, 0xff, 0xd9]);
    const d = await decodeImage(bytes);
    assert.deepEqual(d.image, want);
    assert.deepEqual(d.warnings, [
      `ignored a stray 0x${name} marker at byte ${eoi}, after the complete image`,
    ]);
  }
  // a progressive file is not complete after its first scan: no such forgiveness
  const prog = fixture("quad_progressive.jpg");
  const bad = new Uint8Array([...prog.subarray(0, prog.length - 2), ...sof, 0xff, 0xd9]);
  await assert.rejects(() => decodeImage(bad), DecodeError);
});

/** A PNG chunk of `data`. */
const chunk = (type: string, data: number[]) => pngChunk(type, new Uint8Array(data));

/** `quad.png` with `extra` inserted right after IHDR. */
function withChunk(extra: Uint8Array): Uint8Array {
  const png = fixture("quad.png");
  return new Uint8Array([...png.subarray(0, 33), ...extra, ...png.subarray(33)]);
}

Deno.test("malformed PNG ancillary chunks are ignored with a warning, as libpng does", async () => {
  const want = (await decodeImage(fixture("quad.png"))).image;
  const cases: [Uint8Array, string][] = [
    [chunk("sRGB", [4]), "sRGB rendering intent 4"],
    [chunk("pHYs", [0, 0]), "pHYs chunk of 2 bytes"],
    [chunk("gAMA", [0, 0, 0, 0]), "gAMA of 0"],
    [chunk("tRNS", [1, 2, 3]), "tRNS chunk of 3 bytes"],
  ];
  for (const [extra, why] of cases) {
    const d = await decodeImage(withChunk(extra));
    assert.deepEqual(d.image, want, why);
    assert.deepEqual(d.warnings, [`ignored a malformed PNG ancillary chunk (${why})`]);
  }
  // well-formed ones pass untouched (no copy)
  const ok = withChunk(chunk("sRGB", [0]));
  assert.equal(forgivePng(ok)?.bytes, ok);
});

Deno.test("a PNG missing only IEND decodes with a warning; one cut in IDAT is truncated", async () => {
  const png = fixture("quad.png");
  const want = (await decodeImage(png)).image;
  const noIend = png.subarray(0, png.length - 12);
  const d = await decodeImage(noIend);
  assert.deepEqual(d.image, want);
  assert.deepEqual(d.warnings, ["PNG data ends early: no IEND chunk after its image data"]);
  const halfIend = png.subarray(0, png.length - 5);
  assert.deepEqual((await decodeImage(halfIend)).image, want);
  assert.equal(await refusal(png.subarray(0, png.length - 20)), "truncated PNG data");
  assert.equal(forgivePng(png.subarray(0, 40)), null); // cut before any image data
});

Deno.test("a PNG forgiven its missing IEND or a malformed ancillary chunk still takes zpix's decoder", async () => {
  const png = fixture("quad.png");
  const want = (await decodeImage(png)).image;
  for (const damaged of [png.subarray(0, png.length - 12), withChunk(chunk("sRGB", [4]))]) {
    const checked = checkPngChunks(damaged);
    assert.ok(!("error" in checked));
    // the forgiven stream is one our decoder takes: no fallback to the Rust crate
    assert.deepEqual(await tryDecodePngFast(checked.bytes), want);
    assert.equal(checked.warnings.length, 1);
  }
});

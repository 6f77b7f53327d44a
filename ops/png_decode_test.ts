// Our PNG decoder against the pixels a PNG was made from (PNG is lossless, so
// the source pixels are the reference): every colour type and bit depth it
// takes, every filter type, widths that leave SIMD tails, images of several
// strips; what it declines goes to the Rust decoder, with the old errors.
// (The Pillow-made fixtures of codec_test.ts check it against Pillow too.)
import nodeAssert from "node:assert/strict";
import { DecodeError, decodeImage } from "./codec.ts";
import { crc32 } from "./png_chunks.ts";
import { makePng } from "./png_test_util.ts";
import { compileSource, loadLibraries } from "./codec_libs.ts";
import { CODEC_WASM_SPECIFIERS } from "./codec.ts";
import { readPngInfo } from "./png_chunks.ts";
import { decodePngFast, readPngLayout } from "./png_decode.ts";

const assertEquals = (a: unknown, b: unknown, msg?: string) =>
  nodeAssert.deepStrictEqual(a, b, msg);

/** Asserts `fn()` rejects with a DecodeError whose message includes `text`. */
async function assertDecodeError(fn: () => Promise<unknown>, text: string): Promise<void> {
  await nodeAssert.rejects(fn, (e) => e instanceof DecodeError && e.message.includes(text));
}

const KINDS: [string, number, number][] = [
  ["gray 8", 0, 8],
  ["gray 16", 0, 16],
  ["RGB 8", 2, 8],
  ["RGB 16", 2, 16],
  ["gray+alpha 8", 4, 8],
  ["gray+alpha 16", 4, 16],
  ["RGBA 8", 6, 8],
  ["RGBA 16", 6, 16],
];

for (const [name, colorType, depth] of KINDS) {
  Deno.test(`png: ${name}, every filter type, odd widths: exactly the source pixels`, async () => {
    for (const [w, h, seed] of [[1, 6, 1], [3, 7, 2], [17, 11, 3], [33, 10, 4], [64, 5, 5]]) {
      const { png, rgba } = makePng(w, h, colorType, depth, seed);
      const fast = await decodePngFast(png);
      assertEquals(fast?.data, rgba, `${w}x${h}`);
      const d = await decodeImage(png);
      assertEquals(d.image.data, rgba);
      assertEquals(d.notes, depth === 16 ? ["16-bit PNG reduced to 8 bits per channel"] : []);
    }
  });

  Deno.test(`png: ${name}, runs of Paeth rows (unfiltered two at a time): the source pixels`, async () => {
    const runs: ((y: number) => number)[] = [() => 4, (y) => y % 3 ? 4 : 1, (y) => y % 4 ? 4 : 2];
    for (const [w, h, seed] of [[1, 6, 1], [3, 7, 2], [17, 11, 3], [33, 10, 4], [64, 5, 5]]) {
      for (const filters of runs) {
        const { png, rgba } = makePng(w, h, colorType, depth, seed, { filters });
        assertEquals((await decodePngFast(png))?.data, rgba, `${w}x${h}`);
      }
    }
  });
}

Deno.test("png: palette with tRNS, and gray and RGB colour keys", async () => {
  const trns = new Uint8Array([0, 128, 255, 7]);
  const pal = makePng(29, 9, 3, 8, 3, { palette: 200, trns });
  assertEquals((await decodePngFast(pal.png))?.data, pal.rgba);
  const gray = makePng(21, 8, 0, 8, 4);
  const key = gray.rgba[0];
  const keyed = makePng(21, 8, 0, 8, 4, { trns: new Uint8Array([0, key]) });
  const want = gray.rgba.slice();
  for (let i = 0; i < want.length; i += 4) if (want[i] === key) want[i + 3] = 0;
  assertEquals((await decodePngFast(keyed.png))?.data, want);
  const rgb = makePng(21, 8, 2, 8, 5);
  const [r, g, b] = rgb.rgba;
  const keyedRgb = makePng(21, 8, 2, 8, 5, { trns: new Uint8Array([0, r, 0, g, 0, b]) });
  const wantRgb = rgb.rgba.slice();
  for (let i = 0; i < wantRgb.length; i += 4) {
    if (wantRgb[i] === r && wantRgb[i + 1] === g && wantRgb[i + 2] === b) wantRgb[i + 3] = 0;
  }
  assertEquals((await decodePngFast(keyedRgb.png))?.data, wantRgb);
  assertEquals((await decodeImage(keyedRgb.png)).image.data, wantRgb); // as the Rust decoder
});

Deno.test("png: images of many strips decode row for row", async () => {
  for (const [colorType, f] of [[6, 4], [2, 3], [4, 1]]) {
    const { png, rgba } = makePng(1201, 300, colorType, 8, 9, { filters: (y) => (y * f) % 5 });
    assertEquals((await decodePngFast(png))?.data, rgba);
  }
});

Deno.test("png: what our decoder declines goes to the Rust decoder, errors as before", async () => {
  // 1-bit gray: declined, decoded by the fallback
  const ihdr = makePng(8, 2, 0, 8).png;
  assertEquals(readPngLayout(ihdr)?.bitDepth, 8);
  const oneBit = ihdr.slice();
  oneBit[24] = 1;
  assertEquals(readPngLayout(oneBit), null);
  // a filter type past 4: declined; the Rust decoder's error
  const { png } = makePng(16, 4, 2, 8, 1, { filters: () => 0 });
  const bad = makePng(16, 4, 2, 8, 1, { filters: (y) => (y === 2 ? 5 : 0) }).png;
  assertEquals(await decodePngFast(bad), null);
  await assertDecodeError(() => decodeImage(bad), "corrupt PNG data");
  // a palette index past the palette: declined; the Rust decoder paints it opaque black
  const pal = makePng(16, 4, 3, 8, 1, { palette: 9, plte: 2 });
  assertEquals(await decodePngFast(pal.png), null);
  const d = await decodeImage(pal.png);
  for (let i = 0; i < 64; i++) {
    const rgba = [...d.image.data.subarray(4 * i, 4 * i + 4)];
    const want = [...pal.rgba.subarray(4 * i, 4 * i + 4)];
    nodeAssert.ok(String(rgba) === String(want) || String(rgba) === "0,0,0,255");
  }
  assertEquals((await decodePngFast(png))?.data.length, 16 * 4 * 4);
  // the scanlines cut short inside a well-formed zlib stream: declined, an error
  const full = makePng(16, 4, 2, 8, 1, { filters: () => 0 });
  const cut = makePng(16, 3, 2, 8, 1, { filters: () => 0 }).png.slice();
  new DataView(cut.buffer).setUint32(20, 4); // claim 4 rows
  new DataView(cut.buffer).setUint32(29, crc32(cut, 12, 29));
  assertEquals(await decodePngFast(cut), null);
  await assertDecodeError(() => decodeImage(cut), "corrupt PNG data");
  assertEquals((await decodeImage(full.png)).image.data, full.rgba);
});

Deno.test("png: damaged files (CRCs made right) decode as the Rust decoder does, or fail cleanly", async () => {
  const lib = await loadLibraries();
  lib.pngInitSync(await compileSource(undefined, CODEC_WASM_SPECIFIERS.png));
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 8;
  const bases = [
    makePng(40, 30, 2, 8, 1).png,
    makePng(33, 20, 6, 16, 2).png,
    makePng(20, 20, 3, 8, 3, { palette: 50, trns: new Uint8Array([1, 2]) }).png,
    makePng(25, 9, 0, 8, 4, { trns: new Uint8Array([0, 9]) }).png,
  ];
  let compared = 0;
  for (let it = 0; it < 1000; it++) {
    const b = bases[it % bases.length].slice();
    for (let f = 0, n = 1 + rnd() % 4; f < n; f++) b[8 + rnd() % (b.length - 8)] ^= 1 << rnd() % 8;
    const v = new DataView(b.buffer);
    for (
      let i = 8;
      i + 8 <= b.length && i + 12 + v.getUint32(i) <= b.length;
      i += 12 + v.getUint32(i)
    ) {
      v.setUint32(i + 8 + v.getUint32(i), crc32(b, i + 4, i + 8 + v.getUint32(i)));
    }
    const info = readPngInfo(b);
    const fast = info && !info.truncated ? await decodePngFast(b) : null;
    if (fast) {
      const r = lib.pngDecode(b); // the Rust decoder takes what ours takes
      assertEquals(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength), fast.data);
      compared++;
    }
    await decodeImage(b).catch((e) => nodeAssert.ok(e instanceof DecodeError, String(e)));
  }
  nodeAssert.ok(compared > 20, `only ${compared} damaged files decoded`);
});

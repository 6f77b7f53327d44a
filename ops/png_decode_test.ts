// Our PNG decoder against the pixels a PNG was made from (PNG is lossless, so
// the source pixels are the reference): every colour type and bit depth it
// takes, every filter type, widths that leave SIMD tails, images of several
// strips; what it declines goes to the Rust decoder, with the old errors.
// (The Pillow-made fixtures of codec_test.ts check it against Pillow too.)
import nodeAssert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { DecodeError, decodeImage } from "./codec.ts";
import { crc32 } from "./png_chunks.ts";
import { decodePngFast, readPngLayout } from "./png_decode.ts";

const assertEquals = (a: unknown, b: unknown, msg?: string) =>
  nodeAssert.deepStrictEqual(a, b, msg);

/** Asserts `fn()` rejects with a DecodeError whose message includes `text`. */
async function assertDecodeError(fn: () => Promise<unknown>, text: string): Promise<void> {
  await nodeAssert.rejects(fn, (e) => e instanceof DecodeError && e.message.includes(text));
}

/** A PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** Filters one scanline with `type`, as an encoder would (`prev` null for the first row). */
function filterRow(row: Uint8Array, prev: Uint8Array | null, type: number, bpp: number) {
  const out = new Uint8Array(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    let pred = 0;
    if (type === 1) pred = a;
    else if (type === 2) pred = b;
    else if (type === 3) pred = (a + b) >> 1;
    else if (type === 4) {
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    out[i + 1] = (row[i] - pred) & 0xff;
  }
  return out;
}

interface Made {
  png: Uint8Array;
  /** The RGBA pixels a decoder must produce. */
  rgba: Uint8Array;
}

/**
 * A PNG of `colorType` / `depth`, `w` x `h`, with noisy samples and the filter
 * of row y = (y + shift) % 5; `extra` chunks go before IDAT.
 */
function makePng(
  w: number,
  h: number,
  colorType: number,
  depth: number,
  seed = 1,
  opts: {
    palette?: number;
    /** Palette entries written to PLTE (default all). */
    plte?: number;
    trns?: Uint8Array;
    filters?: (y: number) => number;
  } = {},
): Made {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType]!;
  const bps = depth / 8, bpp = channels * bps, stride = w * bpp;
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) >> 16;
  const paletteSize = opts.palette ?? 0;
  const pal = new Uint8Array(paletteSize * 3).map(() => rnd() & 0xff);
  const rows: Uint8Array[] = [];
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const row = new Uint8Array(stride);
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < bpp; c++) {
        // smooth ramps with noise: every filter has work to do
        const v = colorType === 3
          ? rnd() % paletteSize
          : (x * 7 + y * 3 + c * 50 + (rnd() & 15)) & 0xff;
        row[x * bpp + c] = v;
      }
      const sample = (c: number) => row[x * bpp + c * bps]; // the high byte
      const o = 4 * (y * w + x);
      if (colorType === 3) {
        const p = row[x];
        rgba.set([pal[3 * p], pal[3 * p + 1], pal[3 * p + 2], opts.trns?.[p] ?? 255], o);
      } else if (channels <= 2) {
        rgba.set([sample(0), sample(0), sample(0), channels === 2 ? sample(1) : 255], o);
      } else rgba.set([sample(0), sample(1), sample(2), channels === 4 ? sample(3) : 255], o);
    }
    rows.push(row);
  }
  const filtered = new Uint8Array(h * (stride + 1));
  for (let y = 0; y < h; y++) {
    const type = opts.filters ? opts.filters(y) : (y + seed) % 5;
    filtered.set(filterRow(rows[y], y ? rows[y - 1] : null, type, bpp), y * (stride + 1));
  }
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...(paletteSize ? [chunk("PLTE", pal.subarray(0, 3 * (opts.plte ?? paletteSize)))] : []),
    ...(opts.trns ? [chunk("tRNS", opts.trns)] : []),
  ];
  // the zlib stream split over IDAT chunks of uneven sizes
  const z = new Uint8Array(deflateSync(filtered));
  for (let at = 0, n = 1; at < z.length; at += n, n = n * 3 + 7) {
    parts.push(chunk("IDAT", z.subarray(at, at + n)));
  }
  parts.push(chunk("IEND", new Uint8Array(0)));
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) png.set(p, o), o += p.length;
  return { png, rgba };
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

/**
 * Test helper: PNGs made byte by byte, with the filter of each row chosen,
 * and the RGBA pixels a decoder must produce from them.
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import { pngChunk as chunk } from "./png_chunks.ts";
import { concat } from "./bytes.ts";

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

/** A made PNG and its pixels. */
export interface Made {
  png: Uint8Array;
  /** The RGBA pixels a decoder must produce. */
  rgba: Uint8Array;
}

/**
 * A PNG of `colorType` / `depth`, `w` x `h`, with noisy samples and the filter
 * of row y = (y + shift) % 5; `extra` chunks go before IDAT.
 */
export function makePng(
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
  return { png: concat(parts), rgba };
}

/**
 * zpix's own PNG decoder for the common kinds: 8- and 16-bit gray, gray +
 * alpha, RGB, RGBA and 8-bit palette images, not interlaced. The zlib
 * stream is inflated by the runtime's zlib (`DecompressionStream`, native code, not an
 * image library), which also checks the stream's Adler-32; the scanlines
 * are unfiltered (None, Sub, Up, Average, Paeth) and expanded to RGBA row by
 * row. {@link decodePngStrips} hands the rows to a sink a strip at a time, so a
 * caller can resize them as they arrive instead of holding the whole image.
 *
 * Everything else (interlaced, 1/2/4-bit, a palette index past the
 * palette, a zlib stream that does not hold exactly the image's scanlines,
 * an unknown filter type, 16-bit with a tRNS colour key) returns null, and
 * `codec.ts` falls back to the `@jsquash/png` decoder, which decodes or
 * reports what is wrong as before. Chunk CRCs, truncation and what libpng
 * forgives (`png_repair.ts`) are checked first: `codec.ts` hands this
 * decoder the forgiven stream.
 *
 * @module
 */

import type { Image } from "./image.ts";
import { Arena } from "./kernels/mod.ts";
import { isCriticalChunk, readPngHeader, readPngInfo } from "./png_chunks.ts";

/** What the decoder needs from the chunks of a PNG it takes. */
export interface PngLayout {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** IHDR colour type: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  colorType: number;
  /** 8 or 16. */
  bitDepth: number;
  /** Bytes per pixel in a scanline (the filters' distance). */
  bpp: number;
  /** Bytes per scanline, without its filter byte. */
  stride: number;
  /** Palette as RGBA (alpha from tRNS), 4 bytes per entry; colour type 3 only. */
  palette: Uint8Array | null;
  /** Number of palette entries. */
  paletteSize: number;
  /** tRNS colour key (gray, or R, G, B), 8-bit images only; null without one. */
  key: number[] | null;
  /** The IDAT chunks' data, in order. */
  idat: Uint8Array[];
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Reads the chunks of a PNG this decoder takes; null for any other (see the
 * module doc). Does not check CRCs or truncation (`readPngInfo` does).
 */
export function readPngLayout(bytes: Uint8Array): PngLayout | null {
  if (!readPngHeader(bytes)) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = v.getUint32(16), height = v.getUint32(20);
  const bitDepth = bytes[24], colorType = bytes[25];
  const channels = CHANNELS[colorType];
  if (!channels || width === 0 || height === 0 || bytes[28] !== 0) return null; // interlaced
  if (bitDepth !== 8 && !(bitDepth === 16 && colorType !== 3)) return null;
  if (bytes[26] !== 0 || bytes[27] !== 0) return null; // unknown compression or filter method
  const bpp = channels * (bitDepth >> 3);
  const idat: Uint8Array[] = [];
  let plte: Uint8Array | null = null, trns: Uint8Array | null = null;
  let i = 8;
  while (i + 8 <= bytes.length) {
    const len = v.getUint32(i);
    const type = v.getUint32(i + 4);
    const data = bytes.subarray(i + 8, i + 8 + len);
    if (type === 0x49444154) idat.push(data); // IDAT
    else if (type === 0x504c5445) plte = data; // PLTE
    else if (type === 0x74524e53) trns = data; // tRNS
    else if (type === 0x49454e44) break; // IEND
    i += 12 + len;
  }
  if (idat.length === 0) return null;
  let palette: Uint8Array | null = null, paletteSize = 0, key: number[] | null = null;
  if (colorType === 3) {
    if (!plte || plte.length % 3 !== 0 || plte.length === 0 || plte.length > 768) return null;
    paletteSize = plte.length / 3;
    palette = new Uint8Array(256 * 4);
    for (let p = 0; p < paletteSize; p++) {
      palette[4 * p] = plte[3 * p];
      palette[4 * p + 1] = plte[3 * p + 1];
      palette[4 * p + 2] = plte[3 * p + 2];
      palette[4 * p + 3] = trns && p < trns.length ? trns[p] : 255;
    }
  } else if (trns && (colorType === 0 || colorType === 2)) {
    if (bitDepth !== 8 || trns.length !== channels * 2) return null;
    key = [];
    for (let c = 0; c < channels; c++) {
      if (trns[2 * c] !== 0) return null; // a key no 8-bit sample can match: let the fallback judge
      key.push(trns[2 * c + 1]);
    }
  }
  return {
    width,
    height,
    colorType,
    bitDepth,
    bpp,
    stride: Math.ceil((width * channels * bitDepth) / 8),
    palette,
    paletteSize,
    key,
    idat,
  };
}

/** Rows of RGBA pixels, `width * 4 * rows` bytes at `ptr` of the kernels' memory. */
export type StripSink = (ptr: number, y0: number, rows: number) => void;

/** Scanline bytes per strip: enough to amortise the calls, small enough to stay in cache. */
const STRIP_BYTES = 1 << 20;

/**
 * Unfilters the scanlines that `chunks` (the inflated zlib stream, in
 * pieces of any size) carry and expands them to RGBA in the kernels'
 * memory, a strip of rows at a time, handing each strip to `sink` before
 * the next is decoded. Allocates from `a` before the first strip (the sink
 * may allocate after it). False when the stream holds fewer or more bytes
 * than the scanlines, a row has an unknown filter type or a palette index
 * lies past the palette; `sink` may have been called for earlier strips.
 */
export async function decodePngStrips(
  L: PngLayout,
  a: Arena,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  sink: StripSink,
): Promise<boolean> {
  const pitch = L.stride + 1;
  const strip = Math.max(1, Math.min(L.height, Math.floor(STRIP_BYTES / pitch)));
  const palette = a.alloc(1024);
  const raw = a.alloc(pitch * (strip + 1)); // the row above the strip, then the strip
  const rgba = a.alloc(L.width * 4 * strip);
  if (L.palette) a.view().set(L.palette, palette);
  const mode = L.colorType * 2 + (L.bitDepth === 16 ? 1 : 0);
  const key = L.key ? L.key[0] | (L.key[1] ?? L.key[0]) << 8 | (L.key[2] ?? L.key[0]) << 16 : -1;
  let y = 0; // rows decoded
  let fill = 0; // bytes of the current strip received
  const flush = (rows: number): boolean => {
    const k = a.k;
    if (k.pngUnfilter(raw + pitch, y === 0 ? 0 : raw + 1, rows, L.stride, L.bpp) >= 0) return false;
    const bad = k.pngExpand(
      raw + pitch,
      rows,
      L.stride,
      L.width,
      mode,
      palette,
      L.paletteSize,
      key,
      rgba,
    );
    if (bad >= 0) return false;
    sink(rgba, y, rows);
    y += rows;
    // the strip's last row is the next strip's row above
    a.view().copyWithin(raw, raw + pitch * rows, raw + pitch * (rows + 1));
    fill = 0;
    return true;
  };
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      if (y >= L.height) return false; // more data than scanlines
      const rows = Math.min(strip, L.height - y);
      const take = Math.min(chunk.length - at, rows * pitch - fill);
      a.view().set(chunk.subarray(at, at + take), raw + pitch + fill);
      fill += take;
      at += take;
      if (fill === rows * pitch && !flush(rows)) return false;
    }
  }
  return y === L.height;
}

/** Largest piece of compressed data handed to the inflater at once. */
export const SLICE = 32 * 1024;

/**
 * The IDAT data in slices of at most {@link SLICE} bytes: the stream inflates
 * each written piece whole, so one giant IDAT would come out as the whole
 * image at once (deflate expands at most ~1032x: 32 MB from a slice).
 */
export function* slices(idat: Uint8Array[]): Generator<Uint8Array<ArrayBuffer>> {
  for (const part of idat) {
    for (let at = 0; at < part.length; at += SLICE) {
      yield part.subarray(at, at + SLICE) as Uint8Array<ArrayBuffer>;
    }
  }
}

/**
 * The zlib stream `compressed` (in slices of at most {@link SLICE} bytes)
 * inflated by the runtime's zlib (`DecompressionStream`, which checks the
 * Adler-32), in pieces for {@link decodePngStrips}; it errors on damaged
 * data. Cancel it when done with it early.
 */
export function inflatePieces(
  compressed: Iterable<Uint8Array<ArrayBuffer>> | AsyncIterable<Uint8Array<ArrayBuffer>>,
): ReadableStream<Uint8Array> {
  return ReadableStream.from(compressed).pipeThrough(new DecompressionStream("deflate"));
}

/**
 * Decodes a PNG of a kind this decoder takes to RGBA; null for any other,
 * and for any stream it cannot decode cleanly (the fallback decoder then
 * decodes it or says what is wrong). The scanlines are inflated in pieces
 * and unfiltered as they come: the whole inflated stream is never held (one
 * `inflateSync` of it took 1.1-1.9x the time, by its output buffer's growth
 * and copies).
 */
export async function decodePngFast(bytes: Uint8Array): Promise<Image | null> {
  const L = readPngLayout(bytes);
  if (!L || L.width * L.height * 4 > 2 ** 31) return null;
  const out = new Uint8Array(L.width * L.height * 4);
  const a = new Arena();
  const rowBytes = L.width * 4;
  const inflated = inflatePieces(slices(L.idat));
  try {
    const ok = await decodePngStrips(L, a, inflated, (ptr, y0, rows) => {
      out.set(a.view().subarray(ptr, ptr + rows * rowBytes), y0 * rowBytes);
    });
    return ok ? { width: L.width, height: L.height, data: out } : null;
  } catch {
    return null; // damaged
  } finally {
    await inflated.cancel().catch(() => {});
  }
}

/**
 * {@link decodePngFast} for an intact PNG (every critical chunk's CRC right,
 * IEND reached); null for anything else and on any failure, which the Rust
 * `png` crate (`codec.ts`) then decodes or reports as before.
 */
export async function tryDecodePngFast(bytes: Uint8Array): Promise<Image | null> {
  const info = readPngInfo(bytes);
  if (!info || info.truncated || info.badCrc.some(isCriticalChunk)) return null;
  try {
    return await decodePngFast(bytes);
  } catch {
    return null; // e.g. wasm memory could not grow: the Rust decoder gets its chance
  }
}

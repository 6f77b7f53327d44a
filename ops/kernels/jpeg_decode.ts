/**
 * Fast decoder for the common kinds of JPEG: baseline (SOF0/SOF1) or
 * progressive (SOF2, see jpeg_progressive.ts), 8-bit, Huffman coded, gray
 * or YCbCr with 4:4:4, 4:2:2 (h2v1) or 4:2:0 (h2v2) sampling, or Adobe
 * CMYK/YCCK (inks stored inverted, as Photoshop writes them) with each plane
 * full size, half width or half both ways; restart markers allowed. The
 * markers are parsed in jpeg_markers.ts; the entropy decoding, the IDCT and the colour
 * conversion run in the kernels module (WebAssembly SIMD), computed like
 * libjpeg(-turbo) does by default: the integer "islow" IDCT, fancy
 * (triangle) chroma upsampling and its fixed point YCbCr -> RGB, so the
 * output matches libjpeg/MozJPEG's (bit-exact on well-formed files). CMYK
 * and YCCK: libjpeg's CMYK samples (YCCK through its ycck_cmyk_convert),
 * then Pillow's CMYK -> RGB: R = (255 - K) - round(C * (255 - K) / 255) with
 * C, K the true (uninverted) inks.
 *
 * Anything else (arithmetic, 12-bit, RGB JPEGs, other samplings, 4
 * components without an Adobe marker, progressive files libjpeg would
 * smooth or warn about) makes {@link decodeJpegFast} return null, so the
 * caller falls back to a complete decoder. So does irregular data (corrupt
 * or truncated entropy data, bad restart markers, no EOI right after the
 * last scan), unless the caller takes warnings: then damaged data decodes
 * as libjpeg-turbo decodes it (jdhuff.c, jdphuff.c: a bad Huffman code
 * gives a zero symbol, data ending early leaves the rest of the restart
 * interval flat gray or, in a progressive scan, as it was, restart markers
 * are resynchronised as jpeg_resync_to_restart does), with libjpeg's
 * warnings. A progressive file missing scans still gives null.
 *
 * @module
 */
import type { Image } from "../image.ts";
import { Arena, type Resident } from "./arena.ts";
import { HUFF_BYTES, parseHeader } from "./jpeg_markers.ts";
import { planesToRgba, planLayout, rgbaScratchBytes } from "./jpeg_layout.ts";
import { decodeProgressiveAt } from "./jpeg_progressive.ts";
import { CORRUPT, scanWarnings } from "./jpeg_warnings.ts";

/**
 * Decodes a JPEG (see the module doc for what is supported) to
 * RGBA (or, with `inks`, a CMYK one to its inks: see {@link decodeJpegFastAt}); returns null for anything unsupported or irregular, so that the
 * caller can use a complete decoder instead.
 */
export function decodeJpegFast(
  bytes: Uint8Array,
  inks = false,
  warnings?: string[],
): Image | null {
  const a = new Arena();
  const r = decodeJpegFastAt(a, bytes, 1, inks, warnings);
  return r && a.take(r);
}

/**
 * {@link decodeJpegFast} into the kernels' memory: the decoded RGBA image
 * stays resident in `a` (nothing is copied out); null as there.
 *
 * With `scale` 2, 4 or 8, decodes at that fraction of the size in each
 * dimension (rounded up) as libjpeg-turbo does when asked to scale (its DCT
 * scaling; bit-exact, tested against its decoding through Pillow): each 8x8
 * block becomes 4x4, 2x2 or 1x1 samples straight from its coefficients
 * (jidctred's reduced inverse DCTs), except that a chroma plane takes a
 * twice (four times) larger IDCT where that spares upsampling it (4:2:0
 * chroma at 1/2: the full 8x8 IDCT, no upsampling); what still needs
 * upsampling is upsampled fancily, or plainly at 1/8. Colour conversion
 * and every later stage then work on the small image; the entropy decoding
 * still reads every coefficient, except a progressive file's AC scans of
 * components decoded at one sample a block (jpeg_progressive.ts), which
 * are skipped. Null also where libjpeg would upsample a
 * plane 2 samples wide or less plainly.
 *
 * With `inks`, a CMYK or YCCK JPEG comes out as its inks (C, M, Y, K in the
 * RGBA bytes, 0 = no ink) for a conversion through its ICC profile.
 *
 * With `warnings`, damaged data decodes as libjpeg's does (see the
 * module doc) and what was forgiven is pushed there; without, it gives null.
 */
export function decodeJpegFastAt(
  a: Arena,
  bytes: Uint8Array,
  scale: 1 | 2 | 4 | 8 = 1,
  inks = false,
  warnings?: string[],
): Resident | null {
  const h = parseHeader(bytes);
  if (!h) return null;
  const l = planLayout(h, scale);
  if (!l) return null;
  l.inks = inks && l.mode === -1;
  if (h.frame.progressive) return decodeProgressiveAt(a, bytes, h, l, warnings);
  const { scan, restart } = h;
  if (scan.ss !== 0 || scan.se !== 63 || scan.ah !== 0 || scan.al !== 0) return null;
  const { width, height, mcusX, mcusY } = l;
  const comps = h.frame.components;
  if (h.scanIds.length !== comps.length) return null;
  // scan components must be the frame's, in frame order (as baseline writers do)
  if (h.scanIds.some((id, c) => id !== comps[c].id)) return null;
  const k = a.k;
  // everything this decode needs, counted before anything is reserved
  const need = bytes.length + 32 + 48 * comps.length +
    comps.length * (256 + 2 * HUFF_BYTES) +
    l.planes.reduce((n, p) => n + p.bytes, 0) + width * height * 4 + rgbaScratchBytes(width) +
    (8 + comps.length) * 128;
  if (a.top + need > 0x7fff0000) return null;
  const data = a.alloc(bytes.length);
  const params = a.alloc(32 + 48 * comps.length);
  const tables = a.alloc(comps.length * (256 + 2 * HUFF_BYTES));
  const planes = l.planes.map((p) => a.alloc(p.bytes));
  const out = a.alloc(width * height * 4);
  const tmp = a.alloc(rgbaScratchBytes(width));
  const mem = a.view();
  const dv = new DataView(mem.buffer);
  mem.set(bytes, data);
  const p32 = (off: number, v: number) => dv.setInt32(params + off, v, true);
  p32(0, data + h.dataStart);
  p32(4, data + bytes.length);
  p32(8, mcusX);
  p32(12, mcusY);
  p32(16, restart);
  p32(20, comps.length);
  for (let c = 0; c < comps.length; c++) {
    const q = h.quant[comps[c].tq];
    const [td, ta] = h.scanTables[c];
    const dc = h.huff[td], ac = h.huff[4 + ta];
    if (!q || !dc || !ac || td > 3 || ta > 3) return null;
    const t = tables + c * (256 + 2 * HUFF_BYTES);
    mem.set(new Uint8Array(q.buffer), t);
    mem.set(dc, t + 256);
    mem.set(ac, t + 256 + HUFF_BYTES);
    const o = 32 + 48 * c;
    p32(o, planes[c]);
    p32(o + 4, l.planes[c].stride);
    p32(o + 8, l.planes[c].h);
    p32(o + 12, l.planes[c].v);
    p32(o + 16, t);
    p32(o + 20, t + 256);
    p32(o + 24, t + 256 + HUFF_BYTES);
    p32(o + 32, l.planes[c].shift);
  }
  const end = k.jpegDecodeScan(params);
  const forgiven = dv.getInt32(params + 24, true);
  if (end < 0 || (forgiven && !warnings)) return null;
  // the image must end right here (EOI), as a one-scan baseline file does
  let m = end;
  while (m + 1 < data + bytes.length && mem[m + 1] === 0xff) m++;
  if (m + 1 >= data + bytes.length || mem[m + 1] !== 0xd9) {
    // forgiving: any marker but another scan's (or the data's end, which the caller reports)
    if (!warnings || (m + 1 < data + bytes.length && mem[m + 1] === 0xda)) return null;
    if (m + 1 < data + bytes.length) warnings.push(`${CORRUPT}: marker after the scan ignored`);
  }
  if (warnings) warnings.push(...scanWarnings(forgiven));
  planesToRgba(a, l, planes, out, tmp);
  return { width, height, ptr: out };
}

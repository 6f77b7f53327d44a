/**
 * Fast decoder for the common kind of JPEG: baseline (SOF0/SOF1), 8-bit,
 * Huffman coded, one scan, gray or YCbCr with 4:4:4, 4:2:2 (h2v1) or 4:2:0
 * (h2v2) sampling, restart markers allowed. The markers are parsed here; the
 * entropy decoding, the IDCT and the colour conversion run in the kernels
 * module (WebAssembly SIMD), computed like libjpeg(-turbo) does by default:
 * the integer "islow" IDCT, fancy (triangle) chroma upsampling and its fixed
 * point YCbCr -> RGB, so the output matches libjpeg/MozJPEG's to within
 * rounding (bit-exact on well-formed files).
 *
 * Anything else (progressive, arithmetic, 12-bit, CMYK, RGB JPEGs, other
 * samplings, several scans) and any irregular data (corrupt or truncated
 * entropy data, bad restart markers, no EOI right after the scan) makes
 * {@link decodeJpegFast} return null, so the caller falls back to a complete
 * decoder that also reports what is wrong.
 *
 * @module
 */
import type { Image } from "../image.ts";
import { Arena, type Resident } from "./arena.ts";

/** Natural (row-major) index of the k-th coefficient in zigzag order. */
// deno-fmt-ignore
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
  13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52,
  45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/** Lookahead of the Huffman lookups (HUFF_BITS in assembly/kernels.ts). */
const LOOKUP_BITS = 11;
/** Offsets in one Huffman table in wasm memory (layout: see assembly/kernels.ts). */
const LOOKUP = 512, FAST = LOOKUP + (2 << LOOKUP_BITS);
const HUFF_BYTES = FAST + (4 << LOOKUP_BITS);

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
}

interface Frame {
  width: number;
  height: number;
  components: Component[];
}

/**
 * The wasm layout of a Huffman table from a DHT segment (`counts`: codes per
 * length 1..16, `symbols`; `ac`: also the whole-coefficient lookup), or null
 * when the table is invalid.
 */
function huffTable(
  counts: Uint8Array,
  symbols: Uint8Array,
  ac: boolean,
): Uint8Array | null {
  const out = new Uint8Array(HUFF_BYTES);
  const dv = new DataView(out.buffer);
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    // valoff[len] = index of the first symbol of this length - its code
    dv.setInt32(80 + len * 4, k - code, true);
    for (let i = 0; i < n; i++) {
      if (code >= 1 << len) return null; // over-subscribed
      if (len <= LOOKUP_BITS) {
        const shift = LOOKUP_BITS - len;
        const sym = symbols[k], size = sym & 15;
        const e = (len << 8) | sym;
        for (let j = code << shift, end = (code + 1) << shift; j < end; j++) {
          dv.setUint16(LOOKUP + j * 2, e, true);
          if (len + size <= LOOKUP_BITS && (!ac || size || sym === 0 || sym === 0xf0)) {
            // the whole coefficient (code and value bits) fits in the lookahead
            const bits = (j >> (shift - size)) & ((1 << size) - 1);
            const value = !size ? 0 : bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits;
            const run = ac ? sym >> 4 : 0;
            dv.setInt32(FAST + j * 4, (value << 8) | (run << 4) | (len + size), true);
          }
        }
      }
      code++, k++;
    }
    dv.setInt32(len * 4, n ? code - 1 : -1, true);
    code <<= 1;
  }
  out.set(symbols.subarray(0, k), 160);
  return out;
}

/** What the marker segments before the (one) scan say. */
interface Header {
  frame: Frame;
  quant: (Int32Array | undefined)[];
  huff: (Uint8Array | null | undefined)[]; // index: class * 4 + id
  restart: number;
  jfif: boolean;
  adobeTransform: number | null;
  scanIds: number[];
  scanTables: [number, number][];
  dataStart: number;
}

function parseHeader(b: Uint8Array): Header | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  const quant: (Int32Array | undefined)[] = [];
  const huff: (Uint8Array | null | undefined)[] = [];
  let frame: Frame | null = null;
  let restart = 0, jfif = false;
  let adobeTransform: number | null = null;
  let i = 2;
  for (;;) {
    if (i + 4 > b.length || b[i] !== 0xff) return null;
    while (b[i + 1] === 0xff && i + 5 <= b.length) i++; // fill bytes
    const m = b[i + 1];
    const len = (b[i + 2] << 8) | b[i + 3];
    const s = i + 4, e = i + 2 + len;
    if (len < 2 || e > b.length) return null;
    i = e;
    if (m === 0xdb) { // DQT
      for (let p = s; p < e;) {
        const pq = b[p] >> 4, tq = b[p] & 15;
        if (tq > 3 || pq > 1 || p + 1 + 64 * (pq + 1) > e) return null;
        const t = new Int32Array(64);
        for (let k = 0; k < 64; k++) {
          t[ZIGZAG[k]] = pq ? (b[p + 1 + 2 * k] << 8) | b[p + 2 + 2 * k] : b[p + 1 + k];
        }
        quant[tq] = t;
        p += 1 + 64 * (pq + 1);
      }
    } else if (m === 0xc4) { // DHT
      for (let p = s; p < e;) {
        if (p + 17 > e) return null;
        const tc = b[p] >> 4, th = b[p] & 15;
        if (tc > 1 || th > 3) return null;
        const counts = b.subarray(p + 1, p + 17);
        const n = counts.reduce((x, y) => x + y, 0);
        if (n > 256 || p + 17 + n > e) return null;
        const symbols = b.subarray(p + 17, p + 17 + n);
        if (tc === 0 && symbols.some((v) => v > 15)) return null;
        huff[tc * 4 + th] = huffTable(counts, symbols, tc === 1);
        p += 17 + n;
      }
    } else if (m === 0xc0 || m === 0xc1) { // baseline / extended sequential, Huffman
      if (frame || len < 8 || b[s] !== 8) return null;
      const height = (b[s + 1] << 8) | b[s + 2], width = (b[s + 3] << 8) | b[s + 4];
      const nf = b[s + 5];
      if (width === 0 || height === 0 || (nf !== 1 && nf !== 3) || len !== 8 + 3 * nf) return null;
      const components: Component[] = [];
      for (let c = 0; c < nf; c++) {
        const p = s + 6 + 3 * c;
        components.push({ id: b[p], h: b[p + 1] >> 4, v: b[p + 1] & 15, tq: b[p + 2] });
      }
      frame = { width, height, components };
    } else if ((m >= 0xc2 && m <= 0xcf) || m === 0xd8 || m === 0xd9) {
      return null; // progressive, lossless, arithmetic, hierarchical, or no frame
    } else if (m === 0xdd) { // DRI
      if (len !== 4) return null;
      restart = (b[s] << 8) | b[s + 1];
    } else if (m === 0xe0) {
      if (len >= 7 && String.fromCharCode(...b.subarray(s, s + 5)) === "JFIF\0") jfif = true;
    } else if (m === 0xee) {
      if (len >= 14 && String.fromCharCode(...b.subarray(s, s + 5)) === "Adobe") {
        adobeTransform = b[s + 11];
      }
    } else if (m === 0xda) { // SOS
      if (!frame) return null;
      const ns = b[s];
      if (len !== 6 + 2 * ns) return null;
      const scanIds: number[] = [];
      const scanTables: [number, number][] = [];
      for (let c = 0; c < ns; c++) {
        scanIds.push(b[s + 1 + 2 * c]);
        scanTables.push([b[s + 2 + 2 * c] >> 4, b[s + 2 + 2 * c] & 15]);
      }
      const ss = b[s + 1 + 2 * ns], se = b[s + 2 + 2 * ns], a = b[s + 3 + 2 * ns];
      if (ss !== 0 || se !== 63 || a !== 0) return null;
      return {
        frame,
        quant,
        huff,
        restart,
        jfif,
        adobeTransform,
        scanIds,
        scanTables,
        dataStart: e,
      };
    }
    // other markers (APPn, COM, ...) are skipped
  }
}

/** Is the colour space YCbCr (not RGB) by libjpeg's rules for 3 components? */
function isYcc(h: Header): boolean {
  if (h.jfif) return true;
  if (h.adobeTransform !== null) return h.adobeTransform !== 0;
  const ids = h.frame.components.map((c) => c.id).join();
  return ids !== "82,71,66";
}

/** Sampling mode of the kernels' `jpegToRgba`: 0 gray, 1 4:4:4, 2 4:2:2, 3 4:2:0; -1 other. */
function samplingMode(f: Frame): number {
  if (f.components.length === 1) return 0;
  const [y, cb, cr] = f.components;
  if (cb.h !== 1 || cb.v !== 1 || cr.h !== 1 || cr.v !== 1) return -1;
  if (y.h === 1 && y.v === 1) return 1;
  // libjpeg upsamples plainly (not fancy) when the chroma is 2 samples wide or less
  if (f.width <= 4) return -1;
  if (y.h === 2 && y.v === 1) return 2;
  if (y.h === 2 && y.v === 2) return 3;
  return -1;
}

/**
 * Decodes a baseline JPEG (see the module doc for what is supported) to
 * RGBA; returns null for anything unsupported or irregular, so that the
 * caller can use a complete decoder instead.
 */
export function decodeJpegFast(bytes: Uint8Array): Image | null {
  const a = new Arena();
  const r = decodeJpegFastAt(a, bytes);
  return r && a.take(r);
}

/**
 * {@link decodeJpegFast} into the kernels' memory: the decoded RGBA image
 * stays resident in `a` (nothing is copied out); null as there.
 *
 * With `scale` 2, 4 or 8, decodes at that fraction of the size in each
 * dimension (rounded up): each 8x8 block becomes 4x4 or 2x2 samples, the
 * rounded means of its inverse DCT's, or (1/8) one sample, its DC term
 * (libjpeg's 1x1 scaled IDCT, no inverse DCT at all). Colour conversion
 * and every later stage then work on the small image; the entropy decoding
 * still reads every coefficient. Chroma is upsampled from the scaled planes
 * as at full size. Null also when the scaled image would be too narrow for
 * that (4 pixels or less).
 */
export function decodeJpegFastAt(
  a: Arena,
  bytes: Uint8Array,
  scale: 1 | 2 | 4 | 8 = 1,
): Resident | null {
  const h = parseHeader(bytes);
  if (!h) return null;
  const { frame, restart } = h;
  const { width: fullWidth, height: fullHeight } = frame;
  const width = Math.ceil(fullWidth / scale), height = Math.ceil(fullHeight / scale);
  const comps = frame.components;
  if (h.scanIds.length !== comps.length) return null;
  if (comps.length === 3 && !isYcc(h)) return null;
  const mode = samplingMode({ ...frame, width });
  if (mode < 0) return null;
  // scan components must be the frame's, in frame order (as baseline writers do)
  if (h.scanIds.some((id, c) => id !== comps[c].id)) return null;
  const hmax = mode === 0 ? 1 : comps[0].h, vmax = mode === 0 ? 1 : comps[0].v;
  const mcusX = Math.ceil(fullWidth / (8 * hmax)), mcusY = Math.ceil(fullHeight / (8 * vmax));
  const block = 8 / scale; // samples per block side in the planes
  const k = a.k;
  // everything this decode needs, counted before anything is reserved
  const planeSizes = comps.map((c) => {
    const ch = mode === 0 ? 1 : c.h, cv = mode === 0 ? 1 : c.v;
    const stride = mcusX * ch * block;
    return { bytes: stride * mcusY * cv * block, stride, h: ch, v: cv };
  });
  const need = bytes.length + 32 + 32 * comps.length +
    comps.length * (256 + 2 * HUFF_BYTES) +
    planeSizes.reduce((n, p) => n + p.bytes, 0) + width * height * 4 + 8 * width + 256 +
    (8 + comps.length) * 128;
  if (a.top + need > 0x7fff0000) return null;
  const data = a.alloc(bytes.length);
  const params = a.alloc(32 + 32 * comps.length);
  const tables = a.alloc(comps.length * (256 + 2 * HUFF_BYTES));
  const planes = planeSizes.map((p) => ({ ...p, ptr: a.alloc(p.bytes) }));
  const out = a.alloc(width * height * 4);
  const tmp = a.alloc(8 * width + 256);
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
  p32(24, Math.log2(scale));
  for (let c = 0; c < comps.length; c++) {
    const q = h.quant[comps[c].tq];
    const [td, ta] = h.scanTables[c];
    const dc = h.huff[td], ac = h.huff[4 + ta];
    if (!q || !dc || !ac || td > 3 || ta > 3) return null;
    const t = tables + c * (256 + 2 * HUFF_BYTES);
    mem.set(new Uint8Array(q.buffer), t);
    mem.set(dc, t + 256);
    mem.set(ac, t + 256 + HUFF_BYTES);
    const o = 32 + 32 * c;
    p32(o, planes[c].ptr);
    p32(o + 4, planes[c].stride);
    p32(o + 8, planes[c].h);
    p32(o + 12, planes[c].v);
    p32(o + 16, t);
    p32(o + 20, t + 256);
    p32(o + 24, t + 256 + HUFF_BYTES);
  }
  const end = k.jpegDecodeScan(params);
  if (end < 0) return null;
  // the image must end right here (EOI), as a one-scan baseline file does
  let m = end;
  while (m + 1 < data + bytes.length && mem[m + 1] === 0xff) m++;
  if (m + 1 >= data + bytes.length || mem[m + 1] !== 0xd9) return null;
  const [py, pcb, pcr] = planes;
  k.jpegToRgba(
    py.ptr,
    py.stride,
    pcb?.ptr ?? 0,
    pcr?.ptr ?? 0,
    pcb?.stride ?? 0,
    width,
    height,
    mode,
    out,
    tmp,
  );
  return { width, height, ptr: out };
}

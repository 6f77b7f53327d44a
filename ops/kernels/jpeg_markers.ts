/**
 * The marker segments of a JPEG, for the fast decoder (jpeg_decode.ts,
 * jpeg_progressive.ts): frame header, quantization and Huffman tables (the
 * latter laid out as the kernels' entropy decoders want them), restart
 * interval, JFIF and Adobe markers, and each scan's header. Anything
 * unsupported or malformed gives null.
 *
 * @module
 */

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
/** Bytes of one Huffman table in wasm memory. */
export const HUFF_BYTES = FAST + (4 << LOOKUP_BITS);

/** One frame component: id, sampling factors, quant table. */
export interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
}

/** The frame header (SOF0, SOF1 or SOF2). */
export interface Frame {
  width: number;
  height: number;
  components: Component[];
  progressive: boolean;
}

/**
 * Tables built so far, by class and DHT bytes: most photos of a run carry the
 * same tables (the 300 Flickr photos: 4 distinct among 1,200), and building
 * one (12 KiB of lookups) was 3 % of a sequential run's CPU. Callers only copy
 * them into wasm memory. Emptied when full.
 */
const huffCache = new Map<string, Uint8Array | null>();

/** {@link huffTable}, built once per distinct table. */
function cachedHuffTable(
  counts: Uint8Array,
  symbols: Uint8Array,
  ac: boolean,
): Uint8Array | null {
  const key = String.fromCharCode(ac ? 1 : 0, ...counts, ...symbols);
  let table = huffCache.get(key);
  if (table === undefined) {
    table = huffTable(counts, symbols, ac);
    if (huffCache.size >= 64) huffCache.clear();
    huffCache.set(key, table);
  }
  return table;
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
          if (len + size <= LOOKUP_BITS) {
            // the whole coefficient (code and value bits) fits in the lookahead
            // (AC symbols of size 0: EOBr, whose r more bits are not counted, or ZRL)
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

/** What the marker segments read so far say (tables are replaced as they come). */
export interface MarkerState {
  frame: Frame | null;
  quant: (Int32Array | undefined)[];
  huff: (Uint8Array | null | undefined)[]; // index: class * 4 + id
  restart: number;
  jfif: boolean;
  adobeTransform: number | null;
}

/** One SOS segment: the scan's components, tables and band. */
export interface Scan {
  ids: number[];
  tables: [number, number][];
  ss: number;
  se: number;
  ah: number;
  al: number;
  /** Offset of the entropy-coded data. */
  dataStart: number;
}

/** What the marker segments before the first scan say. */
export interface Header extends MarkerState {
  frame: Frame;
  scanIds: number[];
  scanTables: [number, number][];
  dataStart: number;
  scan: Scan;
}

/**
 * Reads marker segments from offset `i` (on a marker) into `st` until a scan
 * (returned), EOI ("eoi") or anything unsupported or malformed (null). A
 * second frame header, or a frame other than baseline, extended sequential
 * or progressive Huffman 8-bit with 1, 3 or 4 components, gives null.
 */
export function readSegments(b: Uint8Array, i: number, st: MarkerState): Scan | "eoi" | null {
  for (;;) {
    if (i + 2 > b.length || b[i] !== 0xff) return null;
    while (b[i + 1] === 0xff && i + 3 <= b.length) i++; // fill bytes
    const m = b[i + 1];
    if (m === 0xd9) return st.frame ? "eoi" : null;
    if (i + 4 > b.length) return null;
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
        st.quant[tq] = t;
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
        st.huff[tc * 4 + th] = cachedHuffTable(counts, symbols, tc === 1);
        p += 17 + n;
      }
    } else if (m === 0xc0 || m === 0xc1 || m === 0xc2) { // sequential / progressive, Huffman
      if (st.frame || len < 8 || b[s] !== 8) return null;
      const height = (b[s + 1] << 8) | b[s + 2], width = (b[s + 3] << 8) | b[s + 4];
      const nf = b[s + 5];
      if (width === 0 || height === 0 || (nf !== 1 && nf !== 3 && nf !== 4)) return null;
      if (len !== 8 + 3 * nf) return null;
      const components: Component[] = [];
      for (let c = 0; c < nf; c++) {
        const p = s + 6 + 3 * c;
        components.push({ id: b[p], h: b[p + 1] >> 4, v: b[p + 1] & 15, tq: b[p + 2] });
      }
      st.frame = { width, height, components, progressive: m === 0xc2 };
    } else if ((m >= 0xc3 && m <= 0xcf) || m === 0xd8) {
      return null; // lossless, arithmetic, hierarchical
    } else if (m === 0xdd) { // DRI
      if (len !== 4) return null;
      st.restart = (b[s] << 8) | b[s + 1];
    } else if (m === 0xe0) {
      if (len >= 7 && String.fromCharCode(...b.subarray(s, s + 5)) === "JFIF\0") st.jfif = true;
    } else if (m === 0xee) {
      if (len >= 14 && String.fromCharCode(...b.subarray(s, s + 5)) === "Adobe") {
        st.adobeTransform = b[s + 11];
      }
    } else if (m === 0xda) { // SOS
      if (!st.frame) return null;
      const ns = b[s];
      if (ns < 1 || ns > 4 || len !== 6 + 2 * ns) return null;
      const ids: number[] = [];
      const tables: [number, number][] = [];
      for (let c = 0; c < ns; c++) {
        ids.push(b[s + 1 + 2 * c]);
        tables.push([b[s + 2 + 2 * c] >> 4, b[s + 2 + 2 * c] & 15]);
      }
      const a = b[s + 3 + 2 * ns];
      return {
        ids,
        tables,
        ss: b[s + 1 + 2 * ns],
        se: b[s + 2 + 2 * ns],
        ah: a >> 4,
        al: a & 15,
        dataStart: e,
      };
    } else if (m >= 0xd0 && m <= 0xd7) {
      return null; // a restart marker outside a scan
    }
    // other markers (APPn, COM, DNL, ...) are skipped
  }
}

/** The marker state and first scan of a JPEG, or null (see {@link readSegments}). */
export function parseHeader(b: Uint8Array): Header | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  const st: MarkerState = {
    frame: null,
    quant: [],
    huff: [],
    restart: 0,
    jfif: false,
    adobeTransform: null,
  };
  const scan = readSegments(b, 2, st);
  if (!scan || scan === "eoi" || !st.frame) return null;
  return {
    ...st,
    frame: st.frame,
    scanIds: scan.ids,
    scanTables: scan.tables,
    dataStart: scan.dataStart,
    scan,
  };
}

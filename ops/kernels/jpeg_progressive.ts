/**
 * Progressive JPEG (SOF2, Huffman, 8-bit) for {@link decodeJpegFastAt}: the
 * scans (DC first and refinement, AC first and refinement with end-of-band
 * runs, spectral selection, restart markers, tables redefined between scans)
 * are decoded into a buffer of all the image's coefficients by the kernels'
 * `jpegProgScan`, as libjpeg's jdphuff.c does; then every block goes through
 * the same IDCT (and scaled decoding) as a baseline file's, and the same
 * colour conversion. The AC scan that completes a component (every term at
 * Al 0) runs the IDCT of each block row as it leaves it, while the row is
 * in cache; a component no such scan completed (or that a later scan
 * touched again) goes through the IDCT after the scans. A component decoded
 * at one sample a block (1/8 scale: libjpeg's 1x1 IDCT, the DC term alone)
 * keeps only its DC terms: its AC scans are checked (scan script, tables,
 * restart markers) but their entropy data is skipped, not decoded (2 bytes a
 * block instead of 138), so damage inside it, which changes no output
 * sample, goes unnoticed; bad restart markers there give null, `warnings` or
 * not.
 *
 * libjpeg smooths blocks across their edges ("block smoothing") when the
 * file leaves the first AC coefficients incomplete; such files, like any
 * irregular data (a scan script libjpeg would warn about, truncated data:
 * scans missing), give null, so the caller falls back to MozJPEG, which
 * handles and reports them. So does damaged entropy data (corrupt data,
 * bad restart markers), unless the caller takes warnings: then it decodes
 * as jdphuff.c decodes it, with libjpeg's warnings.
 *
 * @module
 */
import type { Arena, Resident } from "./arena.ts";
import { HUFF_BYTES, type MarkerState, readSegments, type Scan } from "./jpeg_markers.ts";
import { type Layout, planesToRgba, rgbaScratchBytes } from "./jpeg_layout.ts";
import { scanWarnings, skipStrayMarkers } from "./jpeg_warnings.ts";

/** The kernels' exports used here beyond `KernelExports` (in `wasm.ts`). */
type ProgressiveKernels = {
  jpegProgScan(params: number): number;
  jpegBlocksToPlane(
    coef: number,
    dcs: number,
    masks: number,
    bw: number,
    bh: number,
    q: number,
    plane: number,
    stride: number,
    shift: number,
  ): void;
};

/**
 * libjpeg-turbo smooths the blocks of a component whose coefficients 0..9
 * (at most; 0..5 in older versions) are not all complete at the end.
 */
const SMOOTHED_COEFS = 10;

/**
 * Decodes a progressive JPEG whose header (up to its first scan) is `h`, at
 * the layout `l` (which says the scale), into `a`; null when unsupported
 * or irregular, or damaged without `warnings` to push libjpeg's to. With
 * `keepAc`, every component keeps and decodes its AC terms even where the
 * layout needs only DC terms (tests compare the two).
 */
export function decodeProgressiveAt(
  a: Arena,
  bytes: Uint8Array,
  h: MarkerState & { scan: Scan; frame: NonNullable<MarkerState["frame"]> },
  l: Layout,
  warnings?: string[],
  keepAc = false,
): Resident | null {
  const comps = h.frame.components;
  const nf = comps.length;
  const { width, height, mcusX, mcusY } = l;
  const gray = nf === 1;
  const hmax = gray ? 1 : Math.max(...comps.map((c) => c.h));
  const vmax = gray ? 1 : Math.max(...comps.map((c) => c.v));
  const fw = h.frame.width, fh = h.frame.height;
  // blocks a one-component scan covers (the component's own size, not the MCUs')
  const own = comps.map((c) => ({
    bw: Math.ceil(Math.ceil((fw * (gray ? 1 : c.h)) / hmax) / 8),
    bh: Math.ceil(Math.ceil((fh * (gray ? 1 : c.v)) / vmax) / 8),
  }));
  // per block: an i16 DC term, and unless the component is decoded at one
  // sample a block (the 1x1 IDCT reads the DC term alone), 64 i16 AC terms
  // and a u64 mask of the nonzero AC terms
  const dcOnly = l.planes.map((p) => p.shift === 3 && !keepAc);
  const blocks = l.planes.map((p) => p.bw * p.bh);
  const need = bytes.length + 256 + nf * 256 + 8 * HUFF_BYTES +
    blocks.reduce((n, b, c) => n + (dcOnly[c] ? 2 : 138) * b, 0) +
    l.planes.reduce((n, p) => n + p.bytes, 0) +
    width * height * 4 + rgbaScratchBytes(width) + (16 + 4 * nf) * 128;
  if (a.top + need > 0x7fff0000) return null;
  const k = a.k as typeof a.k & ProgressiveKernels;
  const data = a.alloc(bytes.length);
  const params = a.alloc(256);
  const quant = a.alloc(nf * 256);
  const tables = a.alloc(8 * HUFF_BYTES);
  const coefs = blocks.map((n, c) => dcOnly[c] ? 0 : a.alloc(128 * n));
  const dcs = blocks.map((n) => a.alloc(2 * n));
  const masks = blocks.map((n, c) => dcOnly[c] ? 0 : a.alloc(8 * n));
  const planes = l.planes.map((p) => a.alloc(p.bytes));
  const mem = a.view();
  mem.set(bytes, data);
  for (let c = 0; c < nf; c++) {
    mem.fill(0, dcs[c], dcs[c] + 2 * blocks[c]);
    if (!dcOnly[c]) mem.fill(0, masks[c], masks[c] + 8 * blocks[c]);
  }
  // per component and coefficient: the Al of the last scan that coded it (-1: none yet)
  const bits = comps.map(() => new Int8Array(64).fill(-1));
  // per component: its plane made by the scan that completed it (no scan since)
  const inScan = comps.map(() => false);
  const latched = comps.map(() => false);
  let forgiven = 0; // what jpegProgScan forgave in damaged data (its flag bits)
  let scan: Scan | "eoi" | null = h.scan;
  while (scan !== "eoi") {
    if (!scan) return null;
    const { ss, se, ah, al } = scan;
    const ns = scan.ids.length;
    // the checks of libjpeg's start_pass_phuff_decoder (errors and warnings alike)
    if (ss === 0 ? se !== 0 : se < ss || se > 63 || ns !== 1) return null;
    if (ah > 13 || al > 13 || (ah !== 0 && al !== ah - 1)) return null;
    const idx = scan.ids.map((id) => comps.findIndex((c) => c.id === id));
    if (idx.includes(-1) || new Set(idx).size !== ns) return null;
    for (const c of idx) {
      if (ss > 0 && bits[c][0] < 0) return null;
      for (let i = ss; i <= se; i++) {
        if (ah !== Math.max(bits[c][i], 0) || (ah !== 0 && bits[c][i] < 0)) return null;
        bits[c][i] = al;
      }
      inScan[c] = false;
    }
    if (ss > 0 && dcOnly[idx[0]]) {
      // AC terms no sample depends on: past the scan's entropy data
      if (!h.huff[4 + scan.tables[0][1]]) return null;
      const { bw, bh } = own[idx[0]];
      const end = skipEntropyData(
        bytes,
        scan.dataStart,
        h.restart ? Math.ceil((bw * bh) / h.restart) - 1 : 0,
      );
      if (end < 0) return null;
      scan = readSegments(bytes, end, h);
      continue;
    }
    const dv = new DataView(mem.buffer);
    const p32 = (off: number, v: number) => dv.setInt32(params + off, v, true);
    p32(0, data + scan.dataStart);
    p32(4, data + bytes.length);
    p32(8, h.restart);
    p32(12, ss);
    p32(16, se);
    p32(20, ah);
    p32(24, al);
    p32(28, ns);
    if (ns === 1) {
      p32(32, own[idx[0]].bw);
      p32(36, own[idx[0]].bh);
    } else {
      p32(32, mcusX);
      p32(36, mcusY);
    }
    for (let j = 0; j < ns; j++) {
      const c = idx[j];
      // libjpeg keeps the quantization table a component had at its first scan
      if (!latched[c]) {
        const q = h.quant[comps[c].tq];
        if (!q) return null;
        mem.set(new Uint8Array(q.buffer), quant + 256 * c);
        latched[c] = true;
      }
      const [td, ta] = scan.tables[j];
      const dcTable = ss === 0 && ah === 0 ? h.huff[td] : undefined;
      const acTable = ss > 0 ? h.huff[4 + ta] : undefined;
      if ((ss === 0 && ah === 0 && !dcTable) || (ss > 0 && !acTable)) return null;
      const t = tables + 2 * j * HUFF_BYTES;
      if (dcTable) mem.set(dcTable, t);
      if (acTable) mem.set(acTable, t + HUFF_BYTES);
      const o = 48 + 48 * j;
      p32(o, coefs[c]);
      p32(o + 4, l.planes[c].bw);
      p32(o + 8, ns === 1 ? 1 : l.planes[c].h);
      p32(o + 12, ns === 1 ? 1 : l.planes[c].v);
      p32(o + 16, t);
      p32(o + 20, t + HUFF_BYTES);
      p32(o + 28, dcs[c]);
      p32(o + 32, masks[c]);
    }
    // an AC scan that completes its component (every term at Al 0) makes
    // its plane, a block row at a time while the row is in cache
    const c0 = idx[0];
    const completes = ss > 0 && bits[c0].every((b) => b === 0);
    const pc = l.planes[c0];
    p32(232, completes ? planes[c0] : 0);
    p32(236, quant + 256 * c0);
    p32(240, pc.stride);
    p32(244, pc.shift);
    p32(248, pc.bh);
    const end = k.jpegProgScan(params);
    inScan[c0] = completes;
    forgiven |= dv.getInt32(params + 40, true);
    if (end < 0 || (forgiven && !warnings)) return null;
    const next = forgiven
      ? skipStrayMarkers(bytes, end - data)
      : { at: end - data, skipped: false };
    if (next.skipped) forgiven |= 8;
    scan = readSegments(bytes, next.at, h);
  }
  // every component's DC and first AC coefficients complete (no block smoothing)
  if (bits.some((b) => b.subarray(0, SMOOTHED_COEFS).some((x) => x !== 0))) return null;
  warnings?.push(...scanWarnings(forgiven));
  const out = a.alloc(width * height * 4);
  const tmp = a.alloc(rgbaScratchBytes(width));
  for (let c = 0; c < nf; c++) {
    if (inScan[c]) continue;
    const p = l.planes[c];
    k.jpegBlocksToPlane(
      coefs[c],
      dcs[c],
      masks[c],
      p.bw,
      p.bh,
      quant + 256 * c,
      planes[c],
      p.stride,
      p.shift,
    );
  }
  planesToRgba(a, l, planes, out, tmp);
  return { width, height, ptr: out };
}

/**
 * The offset of the marker that ends the entropy-coded data starting at
 * `i` (stuffed 0xFF 0x00 bytes and fill bytes skipped), which must contain
 * exactly `restarts` restart markers, in order (RST0, RST1, ...); -1 when
 * not so or when the data runs to the end of `b`.
 */
function skipEntropyData(b: Uint8Array, i: number, restarts: number): number {
  let seen = 0;
  for (i = b.indexOf(0xff, i); i >= 0 && i + 1 < b.length; i = b.indexOf(0xff, i)) {
    const m = b[i + 1];
    if (m === 0xff) i++;
    else if (m === 0) i += 2;
    else if (m >= 0xd0 && m <= 0xd7) {
      if (m !== 0xd0 + (seen & 7) || ++seen > restarts) return -1;
      i += 2;
    } else return seen === restarts ? i : -1;
  }
  return -1;
}

/**
 * A small reader of HEIF/AVIF containers (ISO BMFF): the brands, and the
 * properties of the primary image — its size (`ispe`), colour (`colr`: an
 * ICC profile or nclx code points) and transforms (`clap`, `irot`, `imir`),
 * in the order they apply. Every read is bounds-checked: hostile input gives
 * null, never an exception or a loop.
 *
 * @module
 */

import { ascii } from "./bytes.ts";

/** One transform of the primary image, in the order the file lists them. */
export type Transform =
  | { kind: "irot"; angle: number }
  | { kind: "imir"; axis: number }
  | {
    kind: "clap";
    width: [number, number];
    height: [number, number];
    horizOff: [number, number];
    vertOff: [number, number];
  };

/** nclx colour code points (ITU-T H.273). */
export interface Nclx {
  primaries: number;
  transfer: number;
  matrix: number;
  fullRange: boolean;
}

/** What {@link readHeif} found. */
export interface HeifInfo {
  /** The `ftyp` major brand and compatible brands. */
  brands: string[];
  /** The primary item's `ispe` size (before transforms), or null. */
  width: number;
  height: number;
  /** The primary item's ICC profile (`colr` of type `prof`/`rICC`), or null. */
  icc: Uint8Array | null;
  /** The primary item's nclx colour (`colr` of type `nclx`), or null. */
  nclx: Nclx | null;
  /** The primary item's transformative properties, in order. */
  transforms: Transform[];
}

/** One box: its type and payload range. */
export interface Box {
  /** The four-character type. */
  type: string;
  /** Offset of the payload (after the header). */
  start: number;
  /** Offset one past the box. */
  end: number;
}

/** The boxes in `[start, end)`, in order; stops at the first one that does not fit. */
export function* boxes(b: Uint8Array, v: DataView, start: number, end: number): Generator<Box> {
  let i = start;
  let guard = 0;
  while (i + 8 <= end && guard++ < 10000) {
    let size = v.getUint32(i);
    const type = ascii(b, i + 4, 4);
    let header = 8;
    if (size === 1) {
      if (i + 16 > end) return;
      const big = v.getBigUint64(i + 8);
      if (big > BigInt(end - i)) return;
      size = Number(big);
      header = 16;
    } else if (size === 0) {
      size = end - i;
    }
    if (size < header || i + size > end) return;
    yield { type, start: i + header, end: i + size };
    i += size;
  }
}

/** The first box of `type` in `[start, end)`, or null. */
export function find(
  b: Uint8Array,
  v: DataView,
  start: number,
  end: number,
  type: string,
): Box | null {
  for (const box of boxes(b, v, start, end)) if (box.type === type) return box;
  return null;
}

/** The brands of an `ftyp` box at the start of `bytes`, or null when there is none. */
export function readBrands(bytes: Uint8Array): string[] | null {
  if (bytes.length < 16 || ascii(bytes, 4, 4) !== "ftyp") return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = v.getUint32(0);
  if (size < 16 || size > bytes.length || size > 4096) return null;
  const brands = [ascii(bytes, 8, 4)];
  for (let i = 16; i + 4 <= size; i += 4) brands.push(ascii(bytes, i, 4));
  return brands;
}

/**
 * Reads the primary image's properties from a HEIF/AVIF file; null when
 * the container is not readable (no `meta`, no `ipco`, ...).
 */
export function readHeif(bytes: Uint8Array): HeifInfo | null {
  const brands = readBrands(bytes);
  if (!brands) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const meta = find(bytes, v, 0, bytes.length, "meta");
  if (!meta || meta.start + 4 > meta.end) return null;
  const ms = meta.start + 4; // full box: version and flags
  let primary = -1;
  const pitm = find(bytes, v, ms, meta.end, "pitm");
  if (pitm && pitm.start + 6 <= pitm.end) {
    primary = bytes[pitm.start] === 0 ? v.getUint16(pitm.start + 4) : v.getUint32(pitm.start + 4);
  }
  const iprp = find(bytes, v, ms, meta.end, "iprp");
  if (!iprp) return null;
  const ipco = find(bytes, v, iprp.start, iprp.end, "ipco");
  if (!ipco) return null;
  const props = [...boxes(bytes, v, ipco.start, ipco.end)];
  // ipma: which properties (1-based indices into ipco) each item has.
  let indices: number[] | null = null;
  for (const ipma of boxes(bytes, v, iprp.start, iprp.end)) {
    if (ipma.type !== "ipma" || ipma.start + 8 > ipma.end) continue;
    const version = bytes[ipma.start];
    const flags = bytes[ipma.start + 3];
    let i = ipma.start + 4;
    const count = v.getUint32(i);
    i += 4;
    for (let e = 0; e < count && i < ipma.end; e++) {
      const idSize = version < 1 ? 2 : 4;
      if (i + idSize + 1 > ipma.end) break;
      const id = idSize === 2 ? v.getUint16(i) : v.getUint32(i);
      i += idSize;
      const n = bytes[i++];
      const list: number[] = [];
      for (let k = 0; k < n; k++) {
        if (flags & 1) {
          if (i + 2 > ipma.end) break;
          list.push(v.getUint16(i) & 0x7fff);
          i += 2;
        } else {
          if (i + 1 > ipma.end) break;
          list.push(bytes[i] & 0x7f);
          i += 1;
        }
      }
      if (id === primary || (primary < 0 && indices === null)) indices = list;
    }
  }
  const mine = indices ? indices.map((k) => props[k - 1]).filter(Boolean) : props;
  const info: HeifInfo = { brands, width: 0, height: 0, icc: null, nclx: null, transforms: [] };
  for (const p of mine) {
    const len = p.end - p.start;
    if (p.type === "ispe" && len >= 12 && info.width === 0) {
      info.width = v.getUint32(p.start + 4);
      info.height = v.getUint32(p.start + 8);
    } else if (p.type === "colr" && len >= 4) {
      const kind = ascii(bytes, p.start, 4);
      if ((kind === "prof" || kind === "rICC") && !info.icc) {
        info.icc = bytes.subarray(p.start + 4, p.end);
      } else if (kind === "nclx" && len >= 11 && !info.nclx) {
        info.nclx = {
          primaries: v.getUint16(p.start + 4),
          transfer: v.getUint16(p.start + 6),
          matrix: v.getUint16(p.start + 8),
          fullRange: (bytes[p.start + 10] & 0x80) !== 0,
        };
      }
    } else if (p.type === "irot" && len >= 1) {
      info.transforms.push({ kind: "irot", angle: bytes[p.start] & 3 });
    } else if (p.type === "imir" && len >= 1) {
      info.transforms.push({ kind: "imir", axis: bytes[p.start] & 1 });
    } else if (p.type === "clap" && len >= 32) {
      const pair = (k: number): [number, number] => [
        k >= 4 ? v.getInt32(p.start + 4 * k) : v.getUint32(p.start + 4 * k),
        v.getUint32(p.start + 4 * k + 4),
      ];
      info.transforms.push({
        kind: "clap",
        width: pair(0),
        height: pair(2),
        horizOff: pair(4),
        vertOff: pair(6),
      });
    }
  }
  return info;
}

// ---------------------------------------------------------------------------
// Writing: an ICC profile added to a HEIF/AVIF file (`--keep-icc` for AVIF outputs).

/** A box of `type` whose payload is `parts`, concatenated. */
export function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  for (let k = 0; k < 4; k++) out[4 + k] = type.charCodeAt(k);
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Adds `icc` as a `colr` (`prof`) property of the primary item: the property
 * appended to `ipco`, associated in `ipma`, and the `iloc` offsets that
 * point past the grown `meta` box shifted. Returns null for a layout it does
 * not handle (64-bit sizes, an `idat`-less item before `meta`, ...), and the
 * caller then writes the file without a profile.
 */
export function addIccToHeif(file: Uint8Array, icc: Uint8Array): Uint8Array | null {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const meta = find(file, v, 0, file.length, "meta");
  if (!meta || meta.start + 4 > meta.end) return null;
  const ms = meta.start + 4;
  const pitm = find(file, v, ms, meta.end, "pitm");
  if (!pitm || file[pitm.start] !== 0) return null;
  const primary = v.getUint16(pitm.start + 4);
  const children: Uint8Array[] = [];
  let added = false;
  for (const child of boxes(file, v, ms, meta.end)) {
    if (child.type !== "iprp") {
      children.push(file.subarray(child.start - 8, child.end));
      continue;
    }
    const parts: Uint8Array[] = [];
    let count = 0;
    for (const p of boxes(file, v, child.start, child.end)) {
      if (p.type === "ipco") count = [...boxes(file, v, p.start, p.end)].length;
    }
    for (const p of boxes(file, v, child.start, child.end)) {
      if (p.type === "ipco") {
        const colr = box("colr", new TextEncoder().encode("prof"), icc);
        parts.push(box("ipco", file.subarray(p.start, p.end), colr));
      } else if (p.type === "ipma") {
        const version = file[p.start], wide = (file[p.start + 3] & 1) === 1;
        if (version !== 0 || (!wide && count + 1 > 127)) return null;
        const n = v.getUint32(p.start + 4);
        const out: number[] = [];
        let i = p.start + 8;
        for (let e = 0; e < n; e++) {
          if (i + 3 > p.end) return null;
          const id = v.getUint16(i), k = file[i + 2];
          const per = wide ? 2 : 1;
          if (i + 3 + k * per > p.end) return null;
          const props = [...file.subarray(i + 3, i + 3 + k * per)];
          if (id === primary) {
            props.push(...(wide ? [(count + 1) >> 8, (count + 1) & 0xff] : [count + 1]));
            added = true;
          }
          out.push(id >> 8, id & 0xff, props.length / per, ...props);
          i += 3 + k * per;
        }
        parts.push(box("ipma", file.subarray(p.start, p.start + 8), new Uint8Array(out)));
      } else {
        parts.push(file.subarray(p.start - 8, p.end));
      }
    }
    children.push(box("iprp", ...parts));
  }
  if (!added) return null;
  const newMeta = box("meta", file.subarray(meta.start, ms), ...children);
  const delta = newMeta.length - (meta.end - meta.start + 8);
  if (!shiftIloc(newMeta, meta.end, delta)) return null;
  const out = new Uint8Array(file.length + delta);
  out.set(file.subarray(0, meta.start - 8));
  out.set(newMeta, meta.start - 8);
  out.set(file.subarray(meta.end), meta.start - 8 + newMeta.length);
  return out;
}

/** Adds `delta` to every `iloc` offset at or past `from` (data that moved); false for layouts it does not know. */
export function shiftIloc(meta: Uint8Array, from: number, delta: number): boolean {
  const v = new DataView(meta.buffer, meta.byteOffset, meta.byteLength);
  const iloc = find(meta, v, 12, meta.length, "iloc");
  if (!iloc) return false;
  const version = meta[iloc.start];
  if (version > 2) return false;
  const offSize = meta[iloc.start + 4] >> 4, lenSize = meta[iloc.start + 4] & 15;
  const baseSize = meta[iloc.start + 5] >> 4;
  const indexSize = version >= 1 ? meta[iloc.start + 5] & 15 : 0;
  if (![0, 4].includes(offSize) || ![0, 4].includes(baseSize)) return false;
  let i = iloc.start + 6;
  const count = version < 2 ? v.getUint16(i) : v.getUint32(i);
  i += version < 2 ? 2 : 4;
  const shift = (at: number) => {
    const value = v.getUint32(at);
    if (value < from) return false;
    v.setUint32(at, value + delta);
    return true;
  };
  for (let n = 0; n < count; n++) {
    i += (version < 2 ? 2 : 4) + (version >= 1 ? 2 : 0) + 2; // item_ID, construction, data ref
    if (i + baseSize + 2 > iloc.end) return false;
    const based = baseSize === 4 && shift(i);
    i += baseSize;
    const extents = v.getUint16(i);
    i += 2;
    for (let e = 0; e < extents; e++) {
      i += indexSize;
      if (i + offSize + lenSize > iloc.end) return false;
      if (offSize === 4 && !based) shift(i);
      i += offSize + lenSize;
    }
  }
  return true;
}

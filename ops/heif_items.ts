/**
 * The EXIF and XMP items of a HEIF/AVIF file (`--keep-metadata`): read from
 * an input (`iinf` item types, `iloc` extents in the file or in `idat`) and
 * added to an AVIF output (an `Exif` and a `mime` item described by the
 * primary image through `cdsc` references, their bytes in an `mdat` at the
 * end). Every read is bounds-checked: hostile input gives null, never an
 * exception or a loop.
 *
 * @module
 */

import { type Box, box, boxes, find, readBrands, shiftIloc } from "./isobmff.ts";
import { ascii, concat } from "./bytes.ts";

/** The EXIF (TIFF block) and XMP packet items of a HEIF/AVIF file, for `--keep-metadata`. */
export interface HeifMetadata {
  /** The `Exif` item's TIFF block (its header offset skipped), or null. */
  exif: Uint8Array | null;
  /** The `mime` item of type `application/rdf+xml`, or null. */
  xmp: Uint8Array | null;
}

/** A zero-terminated string at `at` inside `[at, end)`, and the offset after its NUL. */
function cString(b: Uint8Array, at: number, end: number): { text: string; next: number } {
  let k = at;
  while (k < end && b[k] !== 0) k++;
  return { text: ascii(b, at, k - at), next: k + 1 };
}

/** Item id → item type (and a `mime` item's content type) from `iinf`. */
function readItemTypes(b: Uint8Array, v: DataView, iinf: Box): Map<number, string> {
  const types = new Map<number, string>();
  const start = iinf.start + 4 + (b[iinf.start] === 0 ? 2 : 4);
  for (const infe of boxes(b, v, start, iinf.end)) {
    const version = b[infe.start];
    if (infe.type !== "infe" || version < 2) continue;
    let i = infe.start + 4;
    const idSize = version === 2 ? 2 : 4;
    if (i + idSize + 6 > infe.end) continue;
    const id = idSize === 2 ? v.getUint16(i) : v.getUint32(i);
    i += idSize + 2; // protection index
    const type = ascii(b, i, 4);
    const name = cString(b, i + 4, infe.end);
    types.set(id, type === "mime" ? `mime ${cString(b, name.next, infe.end).text}` : type);
  }
  return types;
}

/** An item's bytes from `iloc` (file offsets or `idat`); null for what it cannot read. */
function readItem(b: Uint8Array, v: DataView, meta: Box, wanted: number): Uint8Array | null {
  const ms = meta.start + 4;
  const iloc = find(b, v, ms, meta.end, "iloc");
  if (!iloc || iloc.start + 8 > iloc.end) return null;
  const version = b[iloc.start];
  const offSize = b[iloc.start + 4] >> 4, lenSize = b[iloc.start + 4] & 15;
  const baseSize = b[iloc.start + 5] >> 4;
  const indexSize = version >= 1 ? b[iloc.start + 5] & 15 : 0;
  if (version > 2) return null;
  const uint = (at: number, size: number): number =>
    size === 0 ? 0 : size === 4 ? v.getUint32(at) : size === 8 ? Number(v.getBigUint64(at)) : NaN;
  let i = iloc.start + 6;
  if (i + 4 > iloc.end) return null;
  const count = version < 2 ? v.getUint16(i) : v.getUint32(i);
  i += version < 2 ? 2 : 4;
  for (let n = 0; n < count; n++) {
    const idSize = version < 2 ? 2 : 4;
    if (i + idSize + 4 + baseSize + 2 > iloc.end) return null;
    const id = idSize === 2 ? v.getUint16(i) : v.getUint32(i);
    i += idSize;
    const method = version >= 1 ? v.getUint16(i) & 15 : 0;
    i += (version >= 1 ? 2 : 0) + 2;
    const base = uint(i, baseSize);
    i += baseSize;
    const extents = v.getUint16(i);
    i += 2;
    const parts: Uint8Array[] = [];
    for (let e = 0; e < extents; e++) {
      i += indexSize;
      if (i + offSize + lenSize > iloc.end) return null;
      const offset = base + uint(i, offSize), length = uint(i + offSize, lenSize);
      i += offSize + lenSize;
      if (id !== wanted) continue;
      const idat = method === 1 ? find(b, v, ms, meta.end, "idat") : null;
      const from = method === 1 ? idat?.start ?? NaN : method === 0 ? 0 : NaN;
      const to = method === 1 ? idat?.end ?? 0 : b.length;
      const at = from + offset, end = length === 0 ? to : at + length;
      if (!(at >= from && end <= to && end >= at)) return null;
      parts.push(b.subarray(at, end));
    }
    if (id === wanted) return parts.length === 1 ? parts[0] : concat(parts);
  }
  return null;
}

/**
 * The EXIF and XMP items of a HEIF/AVIF file (best effort: the first of
 * each; any layout it does not follow gives null for that item). Every read
 * is bounds-checked.
 */
export function readHeifMetadata(bytes: Uint8Array): HeifMetadata {
  const none = { exif: null, xmp: null };
  if (!readBrands(bytes)) return none;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const meta = find(bytes, v, 0, bytes.length, "meta");
  if (!meta || meta.start + 4 > meta.end) return none;
  const iinf = find(bytes, v, meta.start + 4, meta.end, "iinf");
  if (!iinf || iinf.start + 6 > iinf.end) return none;
  let exif: Uint8Array | null = null, xmp: Uint8Array | null = null;
  for (const [id, type] of readItemTypes(bytes, v, iinf)) {
    if (type === "Exif" && !exif) {
      const item = readItem(bytes, v, meta, id);
      if (!item || item.length < 4) continue;
      const skip = 4 + new DataView(item.buffer, item.byteOffset, 4).getUint32(0);
      if (skip + 8 <= item.length) exif = item.subarray(skip);
    } else if (type === "mime application/rdf+xml" && !xmp) {
      xmp = readItem(bytes, v, meta, id);
    }
  }
  return { exif, xmp };
}

const XMP_MIME = "application/rdf+xml";

/** A full box: version, 24 bits of flags, then `parts`. */
function fullBox(type: string, version: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, new Uint8Array([version, 0, 0, 0]), ...parts);
}

function u16(n: number): Uint8Array {
  return new Uint8Array([n >> 8, n & 0xff]);
}

function u32(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** An `infe` (version 2) of item `id` of `type`, and a `mime` item's content type. */
function infe(id: number, type: string, contentType?: string): Uint8Array {
  const text = new TextEncoder().encode(`${type}\0${contentType ? `${contentType}\0` : ""}`);
  return fullBox("infe", 2, u16(id), u16(0), text);
}

/** The bytes of {@link addHeifItems}' new items. */
export interface HeifItems {
  /** The EXIF TIFF block, or null. */
  exif: Uint8Array | null;
  /** The XMP packet, or null. */
  xmp: Uint8Array | null;
}

/**
 * Adds EXIF and XMP items that describe the primary image (`cdsc`) to a
 * HEIF/AVIF file: entries in `iinf`, `iref` and `iloc` (the `iloc` offsets
 * that point past the grown `meta` shifted), the bytes in an `mdat` appended
 * at the end. Returns null for a layout it does not handle (16-bit item ids
 * only, `iloc` of version 0 or 1 with 32-bit offsets and lengths, `iinf` and
 * `iref` of version 0), and the caller then writes the file without them.
 */
export function addHeifItems(file: Uint8Array, items: HeifItems): Uint8Array | null {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const meta = find(file, v, 0, file.length, "meta");
  if (!meta || meta.start + 4 > meta.end || !readBrands(file)) return null;
  const ms = meta.start + 4;
  const pitm = find(file, v, ms, meta.end, "pitm");
  const iinf = find(file, v, ms, meta.end, "iinf");
  const iloc = find(file, v, ms, meta.end, "iloc");
  if (!pitm || !iinf || !iloc || file[pitm.start] !== 0 || pitm.start + 6 > pitm.end) return null;
  if (file[iinf.start] !== 0 || iinf.start + 6 > iinf.end) return null;
  const primary = v.getUint16(pitm.start + 4);
  const version = file[iloc.start];
  if (version > 1 || iloc.start + 8 > iloc.end) return null;
  const sizes = file[iloc.start + 4], baseSize = file[iloc.start + 5] >> 4;
  const indexSize = version === 1 ? file[iloc.start + 5] & 15 : 0;
  if (sizes !== 0x44 || ![0, 4, 8].includes(baseSize) || ![0, 4, 8].includes(indexSize)) {
    return null;
  }
  let next = 1;
  for (const [id] of readItemTypes(file, v, iinf)) next = Math.max(next, id + 1);
  const added: { id: number; infe: Uint8Array; data: Uint8Array }[] = [];
  if (items.exif) {
    const data = new Uint8Array(4 + items.exif.length); // exif_tiff_header_offset 0, then TIFF
    data.set(items.exif, 4);
    added.push({ id: next, infe: infe(next, "Exif"), data });
  }
  if (items.xmp) {
    const id = next + added.length;
    added.push({ id, infe: infe(id, "mime", XMP_MIME), data: items.xmp });
  }
  if (added.length === 0 || next + added.length > 0xffff) return null;
  // The new bytes, at the end of the file: offsets as in the old file (shiftIloc moves them too).
  let at = file.length + 8;
  const entries = added.map(({ id, data }) => {
    const entry = [
      u16(id),
      ...(version === 1 ? [u16(0)] : []), // construction method 0: file offsets
      u16(0), // data reference: this file
      new Uint8Array(baseSize),
      u16(1), // one extent
      new Uint8Array(indexSize),
      u32(at),
      u32(data.length),
    ];
    at += data.length;
    return concat(entry);
  });
  const iref = find(file, v, ms, meta.end, "iref");
  if (iref && file[iref.start] !== 0) return null;
  const cdsc = added.map(({ id }) => box("cdsc", u16(id), u16(1), u16(primary)));
  const children: Uint8Array[] = [];
  for (const child of boxes(file, v, ms, meta.end)) {
    const whole = file.subarray(child.start - 8, child.end);
    if (child.type === "iinf") {
      const count = v.getUint16(child.start + 4) + added.length;
      if (count > 0xffff) return null;
      const old = file.subarray(child.start + 6, child.end);
      children.push(fullBox("iinf", 0, u16(count), old, ...added.map((a) => a.infe)));
    } else if (child.type === "iloc") {
      const count = v.getUint16(child.start + 6) + added.length;
      if (count > 0xffff) return null;
      const head = file.subarray(child.start, child.start + 6);
      children.push(
        box("iloc", head, u16(count), file.subarray(child.start + 8, child.end), ...entries),
      );
    } else if (child.type === "iref") {
      children.push(box("iref", file.subarray(child.start, child.end), ...cdsc));
    } else {
      children.push(whole);
    }
    if (child.type === "iinf" && !iref) children.push(fullBox("iref", 0, ...cdsc));
  }
  const newMeta = box("meta", file.subarray(meta.start, ms), ...children);
  const delta = newMeta.length - (meta.end - meta.start + 8);
  if (!shiftIloc(newMeta, meta.end, delta)) return null;
  const mdat = box("mdat", ...added.map((a) => a.data));
  return concat([
    file.subarray(0, meta.start - 8),
    newMeta,
    file.subarray(meta.end),
    mdat,
  ]);
}

/**
 * EXIF orientation: a tiny reader for the orientation tag (0x0112) of a TIFF
 * (EXIF) block, and the pixel transform that makes an image upright the way
 * OpenCV's `imread` and Pillow's `ImageOps.exif_transpose` do.
 *
 * @module
 */

import type { Image } from "./image.ts";

/** EXIF/TIFF tag number of Orientation. */
const ORIENTATION_TAG = 0x0112;

/** Where IFD0's Orientation entry lies in a TIFF block, and how to read it. */
interface OrientationEntry {
  /** The view over the block. */
  view: DataView;
  /** Byte offset of the entry's value field. */
  at: number;
  /** The entry's type: 3 SHORT, 4 LONG, anything else unusable. */
  type: number;
  /** Little-endian ("II") byte order. */
  le: boolean;
}

/**
 * Finds IFD0's Orientation entry. Every offset is bounds-checked and only
 * IFD0 is walked (no IFD chain, so no loop): null for a malformed block or
 * one without the tag.
 */
function orientationEntry(tiff: Uint8Array): OrientationEntry | null {
  if (tiff.length < 8) return null;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return null; // "II" or "MM"
  const le = order === 0x4949;
  if (view.getUint16(2, le) !== 42) return null;
  const ifd = view.getUint32(4, le);
  if (ifd + 2 > tiff.length) return null;
  const count = view.getUint16(ifd, le);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > tiff.length) return null;
    if (view.getUint16(e, le) !== ORIENTATION_TAG) continue;
    return { view, at: e + 8, type: view.getUint16(e + 2, le), le };
  }
  return null;
}

/**
 * Reads the Orientation tag from IFD0 of a TIFF block (the EXIF APP1 payload
 * after "Exif\0\0"). Returns the raw value (normally 1..8), or null when the
 * block is malformed or has no orientation tag.
 */
export function readExifOrientation(tiff: Uint8Array): number | null {
  const entry = orientationEntry(tiff);
  if (!entry) return null;
  const { view, at, type, le } = entry;
  // SHORT (3) is what the spec says; accept LONG (4) as some writers use it.
  if (type === 3) return view.getUint16(at, le);
  if (type === 4) return view.getUint32(at, le);
  return null;
}

/**
 * A copy of a TIFF (EXIF) block whose IFD0 Orientation says 1 (upright), for
 * an output whose pixels were already turned: the value is patched in place,
 * in the block's byte order, nothing else moves. A block without the tag
 * (or a malformed one) is returned as an unchanged copy.
 */
export function resetExifOrientation(tiff: Uint8Array): Uint8Array {
  const copy = tiff.slice();
  const entry = orientationEntry(copy);
  if (entry?.type === 3) entry.view.setUint16(entry.at, 1, entry.le);
  else if (entry?.type === 4) entry.view.setUint32(entry.at, 1, entry.le);
  return copy;
}

/** A human description of an orientation value, for notes. */
export function describeOrientation(orientation: number): string {
  return [
    "",
    "none",
    "mirrored left-right",
    "rotated 180°",
    "mirrored top-bottom",
    "transposed",
    "rotated 90° clockwise",
    "transversed",
    "rotated 90° counter-clockwise",
  ][orientation] ?? "unknown";
}

/**
 * Returns the image made upright for EXIF `orientation` (1..8): 2 mirror
 * left-right, 3 rotate 180°, 4 mirror top-bottom, 5 transpose, 6 rotate 90°
 * clockwise, 7 transverse, 8 rotate 90° counter-clockwise. For 1 (or any
 * other value) the input is returned as is. Otherwise a new image is
 * allocated; the input is not modified.
 */
export function applyOrientation(image: Image, orientation: number): Image {
  if (!Number.isInteger(orientation) || orientation < 2 || orientation > 8) {
    return image;
  }
  const { width: w, height: h } = image;
  const swap = orientation >= 5;
  const dw = swap ? h : w;
  const dh = swap ? w : h;
  const out = new Uint8Array(w * h * 4);
  // Move whole pixels as 32-bit words (byte order does not matter for a copy).
  const srcBytes = image.data.byteOffset % 4 === 0 ? image.data : image.data.slice();
  const src = new Uint32Array(srcBytes.buffer, srcBytes.byteOffset, w * h);
  const dst = new Uint32Array(out.buffer);
  // For each destination pixel (dx, dy) the source is (sx, sy) =
  // (x0 + dx * ax + dy * ay, y0 + dx * bx + dy * by); walk it incrementally.
  let x0 = 0, y0 = 0, ax = 1, ay = 0, bx = 0, by = 1;
  switch (orientation) {
    case 2: // mirror: sx = w-1-dx, sy = dy
      x0 = w - 1, ax = -1;
      break;
    case 3: // 180: sx = w-1-dx, sy = h-1-dy
      x0 = w - 1, y0 = h - 1, ax = -1, by = -1;
      break;
    case 4: // flip: sx = dx, sy = h-1-dy
      y0 = h - 1, by = -1;
      break;
    case 5: // transpose: sx = dy, sy = dx
      ax = 0, ay = 1, bx = 1, by = 0;
      break;
    case 6: // 90° CW: sx = dy, sy = h-1-dx
      y0 = h - 1, ax = 0, ay = 1, bx = -1, by = 0;
      break;
    case 7: // transverse: sx = w-1-dy, sy = h-1-dx
      x0 = w - 1, y0 = h - 1, ax = 0, ay = -1, bx = -1, by = 0;
      break;
    case 8: // 90° CCW: sx = w-1-dy, sy = dx
      x0 = w - 1, ax = 0, ay = -1, bx = 1, by = 0;
      break;
  }
  const step = bx * w + ax; // source index change per +1 in dx
  let o = 0;
  for (let dy = 0; dy < dh; dy++) {
    let s = (y0 + dy * by) * w + (x0 + dy * ay);
    for (let dx = 0; dx < dw; dx++, s += step) dst[o++] = src[s];
  }
  return { width: dw, height: dh, data: out };
}

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

/**
 * Reads the Orientation tag from IFD0 of a TIFF block (the EXIF APP1 payload
 * after "Exif\0\0"). Returns the raw value (normally 1..8), or null when the
 * block is malformed or has no orientation tag.
 */
export function readExifOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null;
  const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = v.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return null; // "II" or "MM"
  const le = order === 0x4949;
  if (v.getUint16(2, le) !== 42) return null;
  const ifd = v.getUint32(4, le);
  if (ifd + 2 > tiff.length) return null;
  const count = v.getUint16(ifd, le);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > tiff.length) return null;
    if (v.getUint16(e, le) !== ORIENTATION_TAG) continue;
    const type = v.getUint16(e + 2, le);
    // SHORT (3) is what the spec says; accept LONG (4) as some writers use it.
    if (type === 3) return v.getUint16(e + 8, le);
    if (type === 4) return v.getUint32(e + 8, le);
    return null;
  }
  return null;
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

/**
 * ICC profiles in image files: finding them (JPEG APP2 `ICC_PROFILE`
 * chunks, PNG `iCCP`, WebP `ICCP`; AVIF/HEIC `colr` boxes are read by
 * `isobmff.ts`), telling sRGB profiles apart cheaply (no CMS loaded), and
 * writing a profile into JPEG, PNG and WebP outputs (`--keep-icc`; AVIF: `isobmff.ts`).
 *
 * Everything here is plain byte walking; the conversion itself is in
 * `color.ts`, which loads LittleCMS only when a profile needs it.
 *
 * @module
 */

import { ascii, concat } from "./bytes.ts";
import { crc32, pngChunks } from "./png_chunks.ts";
import { addWebpChunks } from "./webp_container.ts";

const ICC_SIGNATURE = "ICC_PROFILE\0";

/**
 * The ICC profile of a JPEG, reassembled from its APP2 `ICC_PROFILE`
 * segments (each carries its sequence number and the count; a profile over
 * 64 KB is split over several). Stops at the first scan, where no profile
 * may follow. Null when there is none or its chunks do not add up (a
 * missing or repeated sequence number, counts that disagree).
 */
export function readJpegIcc(bytes: Uint8Array): Uint8Array | null {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let chunks: (Uint8Array | undefined)[] | null = null;
  let i = 2;
  while (i + 4 <= n) {
    if (bytes[i] !== 0xff) return null;
    while (i < n && bytes[i] === 0xff) i++;
    const m = bytes[i++];
    if (m === 0xda || m === 0xd9 || i + 2 > n) break; // scan or end: no profile after it
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
    const len = (bytes[i] << 8) | bytes[i + 1];
    const seg = i + 2, end = i + len;
    if (len < 2 || end > n) break;
    if (m === 0xe2 && len >= 16 && ascii(bytes, seg, 12) === ICC_SIGNATURE) {
      const seq = bytes[seg + 12], count = bytes[seg + 13];
      if (count === 0 || seq === 0 || seq > count) return null;
      chunks ??= new Array(count);
      if (chunks.length !== count || chunks[seq - 1]) return null;
      chunks[seq - 1] = bytes.subarray(seg + 14, end);
    }
    i = end;
  }
  if (!chunks) return null;
  let size = 0;
  for (let k = 0; k < chunks.length; k++) {
    if (!chunks[k]) return null;
    size += chunks[k]!.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c!, at);
    at += c!.length;
  }
  return out;
}

/**
 * The compressed payload of a PNG's `iCCP` chunk (zlib data after the
 * profile name and the method byte), or null. Only chunks before the first
 * IDAT count, as the PNG specification says. Inflate it with
 * {@link inflateIcc}.
 */
export function readPngIccCompressed(bytes: Uint8Array): Uint8Array | null {
  for (const { type, data } of pngChunks(bytes)) {
    if (type === "IDAT") return null;
    if (type === "iCCP") {
      const nul = data.subarray(0, 80).indexOf(0);
      if (nul < 1 || nul + 2 >= data.length || data[nul + 1] !== 0) return null;
      return data.subarray(nul + 2);
    }
  }
  return null;
}

/** Largest inflated profile accepted (real profiles are a few KB to a few hundred KB). */
export const MAX_ICC_BYTES = 4 << 20;

/**
 * Inflates zlib data (a PNG `iCCP` payload); null when it is corrupt or
 * would exceed {@link MAX_ICC_BYTES} (a zip bomb is stopped there).
 */
export async function inflateIcc(zlib: Uint8Array): Promise<Uint8Array | null> {
  try {
    const stream = new Blob([zlib as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("deflate"));
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const part of stream) {
      size += part.length;
      if (size > MAX_ICC_BYTES) return null;
      parts.push(part);
    }
    return concat(parts);
  } catch {
    return null;
  }
}

/** The payload of a WebP's `ICCP` chunk (extended format only), or null. */
export function readWebpIcc(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length < 30 || ascii(bytes, 0, 4) !== "RIFF" || ascii(bytes, 8, 4) !== "WEBP") {
    return null;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii(bytes, 12, 4) !== "VP8X" || !(bytes[20] & 0x20)) return null;
  let i = 12;
  while (i + 8 <= bytes.length) {
    const type = ascii(bytes, i, 4);
    const len = v.getUint32(i + 4, true);
    const end = i + 8 + len;
    if (end > bytes.length) return null;
    if (type === "ICCP") return bytes.subarray(i + 8, end);
    i = end + (len & 1);
  }
  return null;
}

// ---------------------------------------------------------------------------
// Recognising sRGB without a CMS.

/** sRGB's D50-adapted colorants (rXYZ, gXYZ, bXYZ), as in every sRGB ICC profile. */
const SRGB_COLORANTS = [
  [0.4361, 0.2225, 0.0139],
  [0.3851, 0.7169, 0.0971],
  [0.1431, 0.0606, 0.7141],
];

/** The sRGB transfer function, for checking a profile's tone curve. */
function srgbCurve(x: number): number {
  return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
}

/** A parsed ICC header and tag table (enough to recognise a profile). */
export interface IccSummary {
  /** Data colour space: "RGB ", "GRAY", "CMYK", ... */
  colorSpace: string;
  /** Profile/device class: "mntr", "scnr", "prtr", ... */
  deviceClass: string;
  /** Tag signature → [offset, size] within the profile. */
  tags: Map<string, [number, number]>;
}

/** Reads the header and tag table; null when the data is not an ICC profile. */
export function summariseIcc(icc: Uint8Array): IccSummary | null {
  if (icc.length < 132 || ascii(icc, 36, 4) !== "acsp") return null;
  const v = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const count = v.getUint32(128);
  if (count > 200 || 132 + count * 12 > icc.length) return null;
  const tags = new Map<string, [number, number]>();
  for (let k = 0; k < count; k++) {
    const at = 132 + k * 12;
    const offset = v.getUint32(at + 4), size = v.getUint32(at + 8);
    if (offset + size > icc.length) return null;
    tags.set(ascii(icc, at, 4), [offset, size]);
  }
  return { colorSpace: ascii(icc, 16, 4), deviceClass: ascii(icc, 12, 4), tags };
}

/**
 * True when the profile describes sRGB, so that pixels need no conversion:
 * an RGB matrix/shaper profile (no lookup tables, which a CMS would prefer)
 * whose colorants are sRGB's within 0.002 and whose tone curves follow the
 * sRGB curve within 1/128 at 16 points (a table, or parametric). This
 * covers the sRGB profiles cameras, phones, Photoshop (`sRGB
 * IEC61966-2.1`), LittleCMS and colord write, in microseconds and without
 * loading the CMS. A profile it does not recognise is converted, which is
 * never wrong, only slower.
 */
export function isSrgbProfile(icc: Uint8Array): boolean {
  const s = summariseIcc(icc);
  if (!s || s.colorSpace !== "RGB ") return false;
  for (const lut of ["A2B0", "A2B1", "A2B2"]) if (s.tags.has(lut)) return false;
  const v = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const colorants = ["rXYZ", "gXYZ", "bXYZ"];
  for (let c = 0; c < 3; c++) {
    const tag = s.tags.get(colorants[c]);
    if (!tag || tag[1] < 20 || ascii(icc, tag[0], 4) !== "XYZ ") return false;
    for (let k = 0; k < 3; k++) {
      const value = v.getInt32(tag[0] + 8 + 4 * k) / 65536;
      if (Math.abs(value - SRGB_COLORANTS[c][k]) > 0.002) return false;
    }
  }
  for (const name of ["rTRC", "gTRC", "bTRC"]) {
    const tag = s.tags.get(name);
    if (!tag) return false;
    const curve = readCurve(icc, v, tag[0], tag[1]);
    if (!curve) return false;
    for (let k = 0; k <= 16; k++) {
      const x = k / 16;
      if (Math.abs(curve(x) - srgbCurve(x)) > 1 / 128) return false;
    }
  }
  return true;
}

/** A `curv` (table or gamma) or `para` tone curve as a function on 0..1; null for anything else. */
function readCurve(
  icc: Uint8Array,
  v: DataView,
  at: number,
  size: number,
): ((x: number) => number) | null {
  const type = ascii(icc, at, 4);
  if (type === "curv" && size >= 12) {
    const n = v.getUint32(at + 8);
    if (12 + 2 * n > size) return null;
    if (n === 0) return (x) => x;
    if (n === 1) {
      const g = v.getUint16(at + 12) / 256;
      return (x) => x ** g;
    }
    return (x) => {
      const p = x * (n - 1), k = Math.min(n - 2, Math.floor(p)), f = p - k;
      const a = v.getUint16(at + 12 + 2 * k), b = v.getUint16(at + 14 + 2 * k);
      return (a + (b - a) * f) / 65535;
    };
  }
  if (type === "para" && size >= 16) {
    const fn = v.getUint16(at + 8);
    const counts = [1, 3, 4, 5, 7];
    if (fn > 4 || size < 12 + 4 * counts[fn]) return null;
    const p = Array.from({ length: counts[fn] }, (_, k) => v.getInt32(at + 12 + 4 * k) / 65536);
    const [g, a = 1, b = 0, c = 0, d = 0, e = 0, f = 0] = p;
    switch (fn) {
      case 0:
        return (x) => x ** g;
      case 1:
        return (x) => (x >= -b / a ? (a * x + b) ** g : 0);
      case 2:
        return (x) => (x >= -b / a ? (a * x + b) ** g + c : c);
      case 3:
        return (x) => (x >= d ? (a * x + b) ** g : c * x);
      default:
        return (x) => (x >= d ? (a * x + b) ** g + e : c * x + f);
    }
  }
  return null;
}

/** The profile's description (`desc` tag, v2 text or v4 `mluc`), for notes; "" when unreadable. */
export function describeIcc(icc: Uint8Array): string {
  const s = summariseIcc(icc);
  const tag = s?.tags.get("desc");
  if (!tag) return "";
  const [at, size] = tag;
  const v = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const type = ascii(icc, at, 4);
  let text = "";
  if (type === "desc" && size >= 12) {
    const n = Math.min(v.getUint32(at + 8), size - 12, 200);
    text = ascii(icc, at + 12, n);
  } else if (type === "mluc" && size >= 28) {
    const len = v.getUint32(at + 20), off = v.getUint32(at + 24);
    for (let k = 0; k + 1 < len && k < 400 && off + k + 2 <= size; k += 2) {
      text += String.fromCharCode(v.getUint16(at + off + k));
    }
  }
  return text.replace(/\0.*$/s, "").replace(/[^\x20-\x7e]/g, "").trim();
}

// ---------------------------------------------------------------------------
// Writing a profile into an output (`--keep-icc`).

/** Largest ICC payload in one JPEG APP2 segment (65535 - 2 length - 14 header bytes). */
const JPEG_ICC_CHUNK = 65519;

/** Inserts `icc` as APP2 `ICC_PROFILE` segments after the JPEG's SOI and any JFIF APP0. */
export function embedJpegIcc(jpeg: Uint8Array, icc: Uint8Array): Uint8Array {
  const count = Math.ceil(icc.length / JPEG_ICC_CHUNK);
  if (count > 255) return jpeg; // cannot be written (over 16 MB)
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + ((jpeg[4] << 8) | jpeg[5]);
  const segments: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const part = icc.subarray(k * JPEG_ICC_CHUNK, (k + 1) * JPEG_ICC_CHUNK);
    const seg = new Uint8Array(4 + 14 + part.length);
    const len = seg.length - 2;
    seg.set([0xff, 0xe2, len >> 8, len & 0xff]);
    for (let c = 0; c < 12; c++) seg[4 + c] = ICC_SIGNATURE.charCodeAt(c);
    seg[16] = k + 1;
    seg[17] = count;
    seg.set(part, 18);
    segments.push(seg);
  }
  return concat([jpeg.subarray(0, at), ...segments, jpeg.subarray(at)]);
}

/** Inserts an `iCCP` chunk (profile name "icc", zlib-compressed) after the PNG's IHDR. */
export async function embedPngIcc(png: Uint8Array, icc: Uint8Array): Promise<Uint8Array> {
  const zlib = await deflate(icc);
  const chunk = new Uint8Array(12 + 5 + zlib.length);
  const v = new DataView(chunk.buffer);
  v.setUint32(0, 5 + zlib.length);
  chunk.set([0x69, 0x43, 0x43, 0x50, 0x69, 0x63, 0x63, 0, 0], 4); // "iCCP" "icc" NUL method 0
  chunk.set(zlib, 13);
  v.setUint32(chunk.length - 4, crc32(chunk, 4, chunk.length - 4));
  const ihdrEnd = 8 + 8 + 13 + 4;
  return concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

/**
 * Adds an `ICCP` chunk to a WebP file, turning a simple (VP8/VP8L) file into
 * the extended format (a VP8X header with the ICC flag) as the container
 * specification requires. Returns the input unchanged when its layout is
 * not one it knows.
 */
export function embedWebpIcc(webp: Uint8Array, icc: Uint8Array): Uint8Array {
  return addWebpChunks(webp, { icc });
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return concat(parts);
}

/**
 * `--keep-metadata`, reading: the EXIF block, XMP packet and ICC profile of
 * an input in any format of the table (JPEG APP1 Exif/XMP and APP2 ICC; PNG
 * eXIf, iTXt `XML:com.adobe.xmp` and iCCP; WebP EXIF/XMP/ICCP chunks;
 * AVIF/HEIC Exif and XMP items and `colr` profile). Every walk is plain,
 * bounds-checked byte reading: hostile input gives null parts, never an
 * exception. Writing them into an output is `metadata_write.ts`.
 *
 * @module
 */

import { ascii } from "./bytes.ts";
import type { Format } from "./formats.ts";
import { inflateIcc } from "./icc.ts";
import { pngChunks } from "./png_chunks.ts";
import { readHeifMetadata } from "./heif_items.ts";
import { resetExifOrientation } from "./exif.ts";

/** An image's metadata, each part as the bytes a format stores. */
export interface Metadata {
  /** The EXIF TIFF block (starting "II*\0" or "MM\0*", no "Exif\0\0" prefix), or null. */
  exif: Uint8Array | null;
  /** The XMP packet (XML text bytes), or null. */
  xmp: Uint8Array | null;
  /** The ICC profile, or null. */
  icc: Uint8Array | null;
}

/** The APP1 signature of an EXIF segment, and of an XMP packet (Adobe's XMP spec part 3). */
export const EXIF_SIGNATURE = "Exif\0\0";
/** The APP1 signature of an XMP packet. */
export const XMP_SIGNATURE = "http://ns.adobe.com/xap/1.0/\0";
/** The PNG iTXt keyword of an XMP packet. */
export const XMP_KEYWORD = "XML:com.adobe.xmp";

/** Whether `tiff` starts like a TIFF block ("II*\0" or "MM\0*"). */
export function isTiff(tiff: Uint8Array): boolean {
  if (tiff.length < 8) return false;
  const h = ascii(tiff, 0, 4);
  return h === "II*\0" || h === "MM\0*";
}

/** EXIF as stored after an optional "Exif\0\0" prefix (WebP and PNG writers differ), or null. */
function tiffOf(bytes: Uint8Array): Uint8Array | null {
  const tiff = ascii(bytes, 0, 6) === EXIF_SIGNATURE ? bytes.subarray(6) : bytes;
  return isTiff(tiff) ? tiff : null;
}

function readJpeg(bytes: Uint8Array): Omit<Metadata, "icc"> {
  let exif: Uint8Array | null = null, xmp: Uint8Array | null = null;
  const n = bytes.length;
  let i = 2;
  while (i + 4 <= n && bytes[i] === 0xff) {
    while (i < n && bytes[i] === 0xff) i++;
    const m = bytes[i++];
    if (m === 0xda || m === 0xd9 || i + 2 > n) break; // the scan: no metadata after it is read
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
    const len = (bytes[i] << 8) | bytes[i + 1];
    const seg = i + 2, end = i + len;
    if (len < 2 || end > n) break;
    if (m === 0xe1 && !exif && ascii(bytes, seg, 6) === EXIF_SIGNATURE) {
      exif = tiffOf(bytes.subarray(seg + 6, end));
    } else if (m === 0xe1 && !xmp && ascii(bytes, seg, 29) === XMP_SIGNATURE) {
      xmp = bytes.subarray(seg + 29, end);
    }
    i = end;
  }
  return { exif, xmp };
}

async function readPng(bytes: Uint8Array): Promise<Omit<Metadata, "icc">> {
  let exif: Uint8Array | null = null, xmp: Uint8Array | null = null;
  for (const { type, data } of pngChunks(bytes)) {
    if (type === "eXIf" && !exif) exif = tiffOf(data);
    else if (type === "iTXt" && !xmp) xmp = await readItxtXmp(data);
  }
  return { exif, xmp };
}

/** The text of an iTXt chunk whose keyword is XMP's (inflated if compressed), or null. */
async function readItxtXmp(chunk: Uint8Array): Promise<Uint8Array | null> {
  const k = XMP_KEYWORD.length;
  if (chunk.length < k + 5 || ascii(chunk, 0, k + 1) !== `${XMP_KEYWORD}\0`) return null;
  const compressed = chunk[k + 1] === 1;
  let at = k + 3; // keyword NUL, compression flag, method
  for (let nuls = 0; nuls < 2; nuls++) { // language tag, translated keyword
    const nul = chunk.indexOf(0, at);
    if (nul < 0) return null;
    at = nul + 1;
  }
  const text = chunk.subarray(at);
  return compressed ? await inflateIcc(text) : text;
}

function readWebp(bytes: Uint8Array): Metadata {
  const found: Metadata = { exif: null, xmp: null, icc: null };
  if (bytes.length < 20 || ascii(bytes, 0, 4) !== "RIFF" || ascii(bytes, 8, 4) !== "WEBP") {
    return found;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 12;
  while (i + 8 <= bytes.length) {
    const type = ascii(bytes, i, 4);
    const len = v.getUint32(i + 4, true);
    const end = i + 8 + len;
    if (end > bytes.length) break;
    const chunk = bytes.subarray(i + 8, end);
    if (type === "EXIF" && !found.exif) found.exif = tiffOf(chunk);
    else if (type === "XMP " && !found.xmp) found.xmp = chunk;
    else if (type === "ICCP" && !found.icc) found.icc = chunk;
    i = end + (len & 1);
  }
  return found;
}

/**
 * The EXIF, XMP and ICC profile of `bytes` in `format` (each null where
 * absent or unreadable). `icc` is the profile the input format stores,
 * found the way `format_io.ts` `readIcc` finds it, passed in so that it is
 * read once.
 */
export async function readMetadata(
  bytes: Uint8Array,
  format: Format,
  icc: Uint8Array | null,
): Promise<Metadata> {
  switch (format) {
    case "jpeg":
      return { ...readJpeg(bytes), icc };
    case "png":
      return { ...(await readPng(bytes)), icc };
    case "webp":
      return { ...readWebp(bytes), icc };
    case "avif":
    case "heic": {
      const { exif, xmp } = readHeifMetadata(bytes);
      return { exif: exif && isTiff(exif) ? exif : null, xmp, icc };
    }
    case "gif":
      return { exif: null, xmp: null, icc: null };
  }
}

/**
 * Whether zpix's decoded pixels of `format` are already upright whatever
 * the EXIF orientation says, so the copied EXIF must say 1: a JPEG's EXIF
 * orientation is applied when decoding, and a HEIF/AVIF image is shown as
 * its container's transforms say (an EXIF orientation there only repeats
 * them). PNG and WebP orientations are not applied, so they are kept.
 */
export function orientationApplied(format: Format): boolean {
  return format === "jpeg" || format === "heic" || format === "avif";
}

/**
 * A copy of an XMP packet whose `tiff:Orientation` (attribute or element,
 * as Lightroom and exiftool write it) says 1: the digit is replaced in
 * place, so nothing else moves. A packet without it is returned as it is.
 */
export function resetXmpOrientation(xmp: Uint8Array): Uint8Array {
  const text = ascii(xmp, 0, xmp.length);
  const pattern = /tiff:Orientation\s*(?:=\s*["']|>)\s*([2-8])/g;
  let copy: Uint8Array | null = null;
  for (const m of text.matchAll(pattern)) {
    copy ??= xmp.slice();
    copy[m.index! + m[0].length - 1] = 0x31; // "1"
  }
  return copy ?? xmp;
}

/**
 * The metadata to write for an output: EXIF (and an XMP packet's
 * `tiff:Orientation`) with the orientation reset to 1 when
 * {@link orientationApplied}, the rest as it is, and `icc`: the
 * profile that describes the output's pixels (the caller decides: the
 * input's when its pixels were kept, none when they were converted).
 */
export function metadataForOutput(
  read: Metadata,
  inputFormat: Format,
  icc: Uint8Array | null,
): Metadata {
  const turned = orientationApplied(inputFormat);
  const exif = read.exif && turned ? resetExifOrientation(read.exif) : read.exif;
  const xmp = read.xmp && turned ? resetXmpOrientation(read.xmp) : read.xmp;
  return { exif, xmp, icc };
}

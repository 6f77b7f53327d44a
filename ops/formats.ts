/**
 * The image formats zpix reads and writes, told apart by their magic bytes
 * (never by extension), and what can be read of them from the header alone.
 *
 * @module
 */

import { readJpegInfo } from "./jpeg_markers.ts";
import { hasPngSignature, readPngHeader } from "./png_chunks.ts";

/** The formats this layer reads and writes. */
export type Format = "jpeg" | "png";

/** Returns the format of `bytes` by magic bytes (not by extension), or null. */
export function sniffFormat(bytes: Uint8Array): Format | null {
  if (
    bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff
  ) return "jpeg";
  if (hasPngSignature(bytes)) return "png";
  return null;
}

/**
 * Reads the pixel dimensions from the header only (JPEG SOFn, PNG IHDR),
 * without decoding. Returns null for unknown formats, headers cut short, or
 * zero sizes.
 */
export function readDimensions(
  bytes: Uint8Array,
): { width: number; height: number; format: Format } | null {
  const format = sniffFormat(bytes);
  let dims: { width: number; height: number } | null = null;
  if (format === "jpeg") dims = readJpegInfo(bytes, true);
  else if (format === "png") dims = readPngHeader(bytes);
  if (!format || !dims || dims.width < 1 || dims.height < 1) return null;
  return { width: dims.width, height: dims.height, format };
}

/** A guess at what a non-JPEG/PNG file is, for the error message. */
export function describeUnknown(bytes: Uint8Array): string {
  const head = String.fromCharCode(...bytes.subarray(0, 12));
  const kinds: [boolean, string][] = [
    [head.startsWith("GIF8"), "GIF"],
    [head.startsWith("RIFF") && head.slice(8, 12) === "WEBP", "WebP"],
    [head.startsWith("BM"), "BMP"],
    [head.startsWith("II*\0") || head.startsWith("MM\0*"), "TIFF"],
    [head.slice(4, 8) === "ftyp", "HEIF/AVIF or video"],
    [head.startsWith("%PDF"), "PDF"],
  ];
  for (const [match, kind] of kinds) {
    if (match) return `not a JPEG or PNG file (looks like ${kind})`;
  }
  if (looksLikeText(bytes)) return "not a JPEG or PNG file (looks like text)";
  return "not a JPEG or PNG file";
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return n > 0;
}

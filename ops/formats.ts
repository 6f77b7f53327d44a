/**
 * The image formats zpix reads and writes, told apart by their magic bytes
 * (never by extension), and what can be read of them from the header alone.
 *
 * @module
 */

import { readJpegInfo } from "./jpeg_markers.ts";
import { hasPngSignature, readPngHeader } from "./png_chunks.ts";

/** What zpix knows of one image format: every other place asks this table. */
export interface FormatInfo {
  /** The name people know it by, in messages ("JPEG"). */
  label: string;
  /** File extensions, lower case without the dot; the first is the one outputs get. */
  extensions: readonly string[];
  /** The media type (for reports and pages). */
  mime: string;
  /** Whether `bytes` start with this format's signature (magic bytes). */
  magic(bytes: Uint8Array): boolean;
  /** Pixel dimensions from the header alone (no decoding), or null if cut short. */
  dimensions(bytes: Uint8Array): { width: number; height: number } | null;
}

/**
 * The formats zpix reads and writes, in the order they are sniffed. The
 * decoder and encoder of each are in `codec.ts` (`CODECS`, a record keyed by
 * {@link Format}: a format added here does not type-check until it can be
 * decoded and encoded).
 */
export const FORMATS = {
  jpeg: {
    label: "JPEG",
    extensions: ["jpg", "jpeg"],
    mime: "image/jpeg",
    magic: (bytes) =>
      bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
    dimensions: (bytes) => readJpegInfo(bytes, true),
  },
  png: {
    label: "PNG",
    extensions: ["png"],
    mime: "image/png",
    magic: hasPngSignature,
    dimensions: readPngHeader,
  },
} as const satisfies Record<string, FormatInfo>;

/** The formats this layer reads and writes. */
export type Format = keyof typeof FORMATS;

/** Every format's name, in table order. */
export const FORMAT_NAMES: readonly Format[] = Object.keys(FORMATS) as Format[];

/** Every input extension, in table order (`jpg`, `jpeg`, `png`). */
export const EXTENSIONS: readonly string[] = FORMAT_NAMES.flatMap((f) => FORMATS[f].extensions);

/** The extension (with its dot) an output in `format` gets: `.jpg`, `.png`. */
export function outputExtension(format: Format): string {
  return `.${FORMATS[format].extensions[0]}`;
}

/** The format a file name asks for by its extension (any letter case), or null. */
export function formatForName(path: string): Format | null {
  const dot = path.lastIndexOf(".");
  if (dot < 0 || path.indexOf("/", dot) >= 0) return null;
  const ext = path.slice(dot + 1).toLowerCase();
  return FORMAT_NAMES.find((f) => (FORMATS[f].extensions as readonly string[]).includes(ext)) ??
    null;
}

/** Returns the format of `bytes` by magic bytes (not by extension), or null. */
export function sniffFormat(bytes: Uint8Array): Format | null {
  return FORMAT_NAMES.find((f) => FORMATS[f].magic(bytes)) ?? null;
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
  const dims = format ? FORMATS[format].dimensions(bytes) : null;
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

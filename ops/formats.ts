/**
 * The formats table: the one place that knows which image formats zpix
 * reads and writes, told apart by their magic bytes (never by extension),
 * what can be read of them from the header alone, their extensions and the
 * format `--format same` writes for each. The CLI, the planner, the workers,
 * the protocol and the report ask this module; decoding and encoding each
 * format is in `format_io.ts` (`DECODERS`, `ENCODERS`: records keyed by this
 * table's formats, so a format added here does not type-check until it can
 * be read, and written if it is its own `same`).
 *
 * Nothing here loads a codec: the header readers of WebP, GIF and the HEIF
 * container (AVIF, HEIC) are plain byte parsers.
 *
 * @module
 */

import { readJpegInfo } from "./jpeg_markers.ts";
import { hasPngSignature, readPngHeader } from "./png_chunks.ts";
import { isWebp, readWebpSize } from "./codecs/webp.ts";
import { isGif, readGifSize } from "./codecs/gif.ts";
import { readBrands, readHeif } from "./isobmff.ts";

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
  /**
   * The format `--format same` writes for an input of this one: itself when
   * zpix can write it; HEIC (no encoder) as JPEG, GIF as PNG (transparency
   * kept, lossless).
   */
  same: string;
}

/** HEIF container brands of HEIC images (AVIF's are `avif` and `avis`). */
const HEIC_BRANDS = ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"];

function heifSize(bytes: Uint8Array): { width: number; height: number } | null {
  const info = readHeif(bytes);
  return info && info.width > 0 ? info : null;
}

/**
 * The formats zpix reads, in the order they are sniffed and help texts list
 * them (AVIF before HEIC: an AVIF may also carry the `mif1` brand).
 */
export const FORMATS = {
  jpeg: {
    label: "JPEG",
    extensions: ["jpg", "jpeg"],
    mime: "image/jpeg",
    magic: (bytes) =>
      bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff,
    dimensions: (bytes) => readJpegInfo(bytes, true),
    same: "jpeg",
  },
  png: {
    label: "PNG",
    extensions: ["png"],
    mime: "image/png",
    magic: hasPngSignature,
    dimensions: readPngHeader,
    same: "png",
  },
  webp: {
    label: "WebP",
    extensions: ["webp"],
    mime: "image/webp",
    magic: isWebp,
    dimensions: readWebpSize,
    same: "webp",
  },
  avif: {
    label: "AVIF",
    extensions: ["avif"],
    mime: "image/avif",
    magic: (bytes) => readBrands(bytes)?.some((b) => b === "avif" || b === "avis") ?? false,
    dimensions: heifSize,
    same: "avif",
  },
  heic: {
    label: "HEIC",
    extensions: ["heic", "heif"],
    mime: "image/heic",
    magic: (bytes) => readBrands(bytes)?.some((b) => HEIC_BRANDS.includes(b)) ?? false,
    dimensions: heifSize,
    same: "jpeg",
  },
  gif: {
    label: "GIF",
    extensions: ["gif"],
    mime: "image/gif",
    magic: isGif,
    dimensions: readGifSize,
    same: "png",
  },
} as const satisfies Record<string, FormatInfo>;

/** The formats zpix reads. */
export type Format = keyof typeof FORMATS;

/** The formats zpix writes (`--format`): those that are their own `same`. */
export type WritableFormat = (typeof FORMATS)[Format]["same"];

/** Every format's name, in table order. */
export const FORMAT_NAMES: readonly Format[] = Object.keys(FORMATS) as Format[];

/** The writable formats, in table order: `--format`'s choices besides `same`. */
export const WRITABLE_FORMATS: readonly WritableFormat[] = FORMAT_NAMES.filter((f) =>
  FORMATS[f].same === f
) as WritableFormat[];

/** Every input extension, in table order (`jpg`, `jpeg`, `png`, `webp`, ...). */
export const EXTENSIONS: readonly string[] = FORMAT_NAMES.flatMap((f) => FORMATS[f].extensions);

/** The format `--format same` writes for an input in `format` (HEIC: JPEG, GIF: PNG). */
export function sameFormat(format: Format): WritableFormat {
  return FORMATS[format].same;
}

/** The extension (with its dot) an output in `format` gets: `.jpg`, `.png`, `.webp`, `.avif`. */
export function outputExtension(format: WritableFormat): string {
  return `.${FORMATS[format].extensions[0]}`;
}

/** The format a file name's extension names (any letter case), or null. */
export function formatOfExtension(path: string): Format | null {
  const dot = path.lastIndexOf(".");
  if (dot < 0 || path.indexOf("/", dot) >= 0) return null;
  const ext = path.slice(dot + 1).toLowerCase();
  return FORMAT_NAMES.find((f) => (FORMATS[f].extensions as readonly string[]).includes(ext)) ??
    null;
}

/** The writable format an output name asks for by its extension, or null (`x.heic` asks for none). */
export function formatForName(path: string): WritableFormat | null {
  const format = formatOfExtension(path);
  return format !== null && sameFormat(format) === format ? format as WritableFormat : null;
}

/** Returns the format of `bytes` by magic bytes (not by extension), or null. */
export function sniffFormat(bytes: Uint8Array): Format | null {
  return FORMAT_NAMES.find((f) => FORMATS[f].magic(bytes)) ?? null;
}

/**
 * Reads the pixel dimensions from the header only (JPEG SOFn, PNG IHDR, WebP
 * VP8/VP8L/VP8X, the HEIF container's ispe, GIF's screen), without decoding. Returns null for unknown formats, headers cut short, or
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

/**
 * What a file of no format in the table is, for the error message: the
 * table's formats named ("not a JPEG, PNG, WebP, AVIF, HEIC or GIF file"),
 * then a guess at the kind.
 */
export function describeUnknown(bytes: Uint8Array): string {
  const labels = FORMAT_NAMES.map((f) => FORMATS[f].label);
  const not = `not a ${labels.slice(0, -1).join(", ")} or ${labels.at(-1)} file`;
  const head = String.fromCharCode(...bytes.subarray(0, 12));
  const kinds: [boolean, string][] = [
    // these two are in the table: their header is incomplete
    [head.startsWith("GIF8"), "a GIF cut short or of an unknown version"],
    [head.startsWith("RIFF") && head.slice(8, 12) === "WEBP", "a WebP cut short"],
    [head.startsWith("BM"), "BMP"],
    [head.startsWith("II*\0") || head.startsWith("MM\0*"), "TIFF"],
    [head.slice(4, 8) === "ftyp", "an ISO media file of another brand (video?)"],
    [head.startsWith("%PDF"), "PDF"],
  ];
  for (const [match, kind] of kinds) {
    if (match) return `${not} (looks like ${kind})`;
  }
  if (looksLikeText(bytes)) return `${not} (looks like text)`;
  return not;
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return n > 0;
}

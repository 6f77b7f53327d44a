/**
 * Every format of the table (`formats.ts`) to and from pixels: decoding
 * ({@link decodeAny}), encoding ({@link encodeAny}) and the ICC profile's
 * place in each format ({@link readIcc}, {@link embedIcc}). JPEG and PNG go
 * through `codec.ts` (and the fused fast path of `transcode.ts`); WebP,
 * AVIF, HEIC and GIF through `codecs/*.ts`, each loaded on the first image
 * that needs it.
 *
 * Decoding also does colour management: a non-sRGB ICC profile is converted
 * to sRGB (`color.ts`), unless `keepIcc` asks for the original pixels and
 * profile, which {@link embedIcc} then writes into the output.
 *
 * @module
 */

import { DecodeError, decodeImage, DEFAULT_MAX_PIXELS, encodeImage } from "./codec.ts";
import { convertCmykToSrgb, convertToSrgb } from "./color.ts";
import type { Image } from "./image.ts";
import {
  describeIcc,
  embedJpegIcc,
  embedPngIcc,
  embedWebpIcc,
  inflateIcc,
  readJpegIcc,
  readPngIccCompressed,
  readWebpIcc,
  summariseIcc,
} from "./icc.ts";
import { addIccToHeif, readHeif } from "./isobmff.ts";
import { nclxToIcc } from "./nclx.ts";
import { CodecUnavailableError } from "./codecs/wasm.ts";
import {
  type Format,
  FORMATS,
  readDimensions,
  sniffFormat,
  type WritableFormat,
} from "./formats.ts";

/** Options for {@link decodeAny}. */
export interface DecodeAnyOptions {
  /** Refuse images with more pixels than this (from the header). */
  maxPixels?: number;
  /** Keep the pixels as they are and return the profile, instead of converting to sRGB. */
  keepIcc?: boolean;
}

/** The result of {@link decodeAny}. */
export interface DecodedAny {
  /** Upright RGBA pixels: sRGB unless `keepIcc` (then in `icc`'s space). */
  image: Image;
  /** The format found by magic bytes. */
  format: Format;
  /** What was done (orientation applied, colour converted, ...). */
  notes: string[];
  /** Non-fatal problems. */
  warnings: string[];
  /** With `keepIcc`: the input's ICC profile (to embed in the output); otherwise null. */
  icc: Uint8Array | null;
}

type Decoder = (bytes: Uint8Array, warnings: string[], notes: string[]) => Promise<Image>;

/**
 * How each format other than JPEG and PNG (which `codec.ts` decodes, header
 * checks and all) is decoded: a record keyed by the table's formats, so a
 * format added there does not type-check until it has a decoder here.
 */
const DECODERS: Record<Exclude<Format, "jpeg" | "png">, Decoder> = {
  webp: async (bytes) => (await import("./codecs/webp.ts")).decodeWebp(bytes),
  avif: async (bytes, _warnings, notes) => {
    const info = readHeif(bytes)!;
    if (info.transforms.length > 0) {
      notes.push(`container transforms applied (${info.transforms.map((t) => t.kind).join(", ")})`);
    }
    return await (await import("./codecs/avif.ts")).decodeAvif(bytes, info);
  },
  heic: async (bytes) => (await import("./codecs/heic.ts")).decodeHeic(bytes),
  gif: async (bytes, warnings) => {
    const r = await (await import("./codecs/gif.ts")).decodeGif(bytes);
    warnings.push(...r.warnings);
    return r.image;
  },
};

type Encoder = (image: Image, quality: number) => Promise<Uint8Array>;

/** How each writable format is encoded (a writable format without an encoder does not type-check). */
const ENCODERS: Record<WritableFormat, Encoder> = {
  jpeg: (image, quality) => encodeImage(image, "jpeg", { quality }),
  png: (image, quality) => encodeImage(image, "png", { quality }),
  webp: async (image, q) => (await import("./codecs/webp.ts")).encodeWebp(image, q),
  avif: async (image, q) => (await import("./codecs/avif.ts")).encodeAvif(image, q),
};

/** Where each format keeps its ICC profile: read from an input, written into an output. */
const ICC: Record<Format, (bytes: Uint8Array) => Uint8Array | null | Promise<Uint8Array | null>> = {
  jpeg: readJpegIcc,
  png: async (bytes) => {
    const z = readPngIccCompressed(bytes);
    return z ? await inflateIcc(z) : null;
  },
  webp: readWebpIcc,
  avif: (bytes) => readHeif(bytes)?.icc ?? null,
  heic: (bytes) => readHeif(bytes)?.icc ?? null,
  gif: () => null,
};

/** Why --keep-icc did not keep a CMYK JPEG's profile. */
const CMYK_NOT_KEPT = "CMYK ICC profile not kept (the output is RGB)";

/** A JPEG's embedded ICC profile when it is a CMYK one, else null. */
function cmykProfile(bytes: Uint8Array): Uint8Array | null {
  const icc = readJpegIcc(bytes);
  return icc && summariseIcc(icc)?.colorSpace === "CMYK" ? icc : null;
}

/** The embedded ICC profile of a file, or null. PNG's is inflated, hence async. */
export async function readIcc(bytes: Uint8Array, format: Format): Promise<Uint8Array | null> {
  return await ICC[format](bytes);
}

function megapixels(n: number): string {
  return String(Math.round(n / 1e5) / 10);
}

/**
 * Decodes any format of the table to upright RGBA, converting colours to
 * sRGB from an embedded ICC profile (unless `keepIcc`). Throws
 * {@link DecodeError} with one line for anything undecodable, including an
 * image over `maxPixels` (checked from the header, before decoding).
 */
export async function decodeAny(
  bytes: Uint8Array,
  options: DecodeAnyOptions = {},
): Promise<DecodedAny> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = sniffFormat(bytes);
  let image: Image;
  let notes: string[] = [];
  let warnings: string[] = [];
  if (format === null || format === "jpeg" || format === "png") {
    // codec.ts checks the header, the limit, and explains unknown data.
    // (a CMYK profile is converted with --keep-icc too: the outputs are RGB, it cannot be kept)
    const cmyk = format === "jpeg" ? cmykProfile(bytes) : null;
    const d = await decodeImage(bytes, { maxPixels, cmykInks: cmyk !== null });
    ({ image, notes, warnings } = d);
    if (d.inks && cmyk) {
      try {
        image = await convertCmykToSrgb(image.data, image.width, image.height, cmyk);
        const name = describeIcc(cmyk) || "unnamed";
        notes = notes.filter((n) => !n.endsWith("JPEG converted to RGB"));
        notes.push(`converted from ICC profile "${name}" (CMYK inks) to sRGB`);
        if (options.keepIcc) warnings.push(CMYK_NOT_KEPT);
        return { image, format: "jpeg", notes, warnings, icc: null };
      } catch {
        // LittleCMS cannot use the profile: decode to RGB as without one (and say so below).
        ({ image, notes, warnings } = await decodeImage(bytes, { maxPixels }));
      }
    }
  } else {
    const size = readDimensions(bytes);
    const label = FORMATS[format].label;
    if (!size) throw new DecodeError(`truncated or corrupt ${label} data (no valid header)`);
    const n = size.width * size.height;
    if (n > maxPixels) {
      throw new DecodeError(
        `image is ${size.width}x${size.height} = ${megapixels(n)} megapixels, over the limit of ${
          megapixels(maxPixels)
        } megapixels (--max-pixels)`,
      );
    }
    try {
      image = await DECODERS[format](bytes, warnings, notes);
      // A container whose header understates the coded size: refuse what came out, too.
      if (image.width * image.height > maxPixels) {
        throw new DecodeError(
          `image is ${image.width}x${image.height}, over the limit of ${
            megapixels(maxPixels)
          } megapixels (--max-pixels), though its header said ${size.width}x${size.height}`,
        );
      }
    } catch (e) {
      if (e instanceof DecodeError || e instanceof CodecUnavailableError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new DecodeError(
        /corrupt|truncated|unsupported|no primary|no image/i.test(why)
          ? why
          : `corrupt ${label} data (${why})`,
        { cause: e },
      );
    }
  }
  const found = format ?? "jpeg";
  let icc = await readIcc(bytes, found);
  if (!icc && (found === "avif" || found === "heic")) {
    // Colour by code points instead of a profile: its equivalent profile, if not sRGB.
    const nclx = readHeif(bytes)?.nclx;
    const colour = nclx ? nclxToIcc(nclx) : null;
    if (colour?.kind === "profile") icc = colour.icc;
    else if (colour?.kind === "unsupported" && !options.keepIcc) {
      warnings = [...warnings, `colours taken as sRGB: ${colour.reason} is not converted`];
    }
  }
  if (options.keepIcc && icc && summariseIcc(icc)?.colorSpace === "CMYK") {
    return { image, format: found, notes, warnings: [...warnings, CMYK_NOT_KEPT], icc: null };
  }
  if (options.keepIcc) return { image, format: found, notes, warnings, icc };
  if (icc) {
    const c = await convertToSrgb(image, icc);
    image = c.image;
    if (c.note) notes = [...notes, c.note];
    if (c.warning) warnings = [...warnings, c.warning];
  }
  return { image, format: found, notes, warnings, icc: null };
}

/** Options for {@link encodeAny}. */
export interface EncodeAnyOptions {
  /** Quality 1..100 for JPEG, WebP and AVIF (ignored for PNG). */
  quality: number;
}

/**
 * Encodes RGBA in a writable format: JPEG and PNG by `codec.ts` (MozJPEG,
 * PNG), WebP (lossy, alpha kept) and AVIF (lossy, alpha kept) by
 * `codecs/*.ts`.
 */
export async function encodeAny(
  image: Image,
  format: WritableFormat,
  options: EncodeAnyOptions,
): Promise<Uint8Array> {
  const q = options.quality;
  if (!Number.isInteger(q) || q < 1 || q > 100) {
    throw new RangeError(`quality must be an integer 1..100, got ${q}`);
  }
  const encode = Object.hasOwn(ENCODERS, format) ? ENCODERS[format] : null;
  if (!encode) throw new RangeError(`unknown format ${format}`);
  try {
    return await encode(image, q);
  } catch (e) {
    if (e instanceof RangeError) throw e;
    const why = (e as Error).message;
    if (why.startsWith(`${FORMATS[format].label} encoding failed`)) throw e;
    throw new Error(`${FORMATS[format].label} encoding failed (${why})`);
  }
}

/**
 * Writes `icc` into an encoded output (JPEG APP2, PNG iCCP, WebP ICCP, the
 * AVIF container's colr property). Returns the bytes and, when the profile
 * could not be written, a warning saying it was dropped.
 */
export async function embedIcc(
  bytes: Uint8Array,
  format: WritableFormat,
  icc: Uint8Array,
): Promise<{ bytes: Uint8Array; warning: string | null }> {
  switch (format) {
    case "jpeg":
      return { bytes: embedJpegIcc(bytes, icc), warning: null };
    case "png":
      return { bytes: await embedPngIcc(bytes, icc), warning: null };
    case "webp":
      return { bytes: embedWebpIcc(bytes, icc), warning: null };
    case "avif": {
      // jsquash's AVIF encoder has no way to attach a profile: it is added to the container.
      const withIcc = addIccToHeif(bytes, icc);
      if (withIcc) return { bytes: withIcc, warning: null };
      return {
        bytes,
        warning: "ICC profile not kept: the AVIF container's layout is not one zpix edits",
      };
    }
  }
}

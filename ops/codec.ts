/**
 * The codec layer: JPEG and PNG bytes to and from {@link Image} (others: `format_io.ts`).
 *
 * Decoding uses the WASM builds shipped in `@jsquash/jpeg` (MozJPEG) and
 * `@jsquash/png` (the Rust `png` crate), plus `jpeg-js` for CMYK/YCCK JPEGs
 * that MozJPEG's decoder refuses. Around them it adds what real-world files
 * need: format sniffing by magic bytes, a pixel-count guard read from the
 * header before any decoding, EXIF orientation, truncation/CRC checks, and
 * one readable {@link DecodeError} for every bad input.
 *
 * WASM loading: {@link initCodecs} compiles the three `.wasm` files once per
 * process and instantiates the Emscripten / wasm-bindgen glue with them.
 * We call the codec glue (`codec/dec/mozjpeg_dec.js`, ...) directly instead
 * of jsquash's `decode()` wrappers because that gives synchronous calls with
 * our own `printErr` (libjpeg's warnings are captured per call, never printed
 * to stderr) and lets us re-instantiate the decoder after it throws.
 *
 * Permissions: jsquash's own default loaders `fetch()` a `file:` URL next to
 * their glue (MozJPEG via Emscripten's `getBinaryPromise`, PNG via
 * wasm-bindgen's `__wbg_init`). Under Deno a `file:` fetch needs
 * `--allow-read` (for that path), not `--allow-net`. We read the same files
 * with `Deno.readFile` on `import.meta.resolve("@jsquash/...wasm")`, which
 * also needs only `--allow-read`; a compiled binary (`deno compile`) can
 * instead hand {@link initCodecs} the bytes or modules it embeds.
 *
 * @module
 */

import { DEFAULT_MAX_PIXELS, overPixelLimit } from "./defaults.ts";
import { applyOrientation, describeOrientation, readExifOrientation } from "./exif.ts";
import { assertImage, type Image } from "./image.ts";
import { type JpegInfo, readJpegInfo } from "./jpeg_markers.ts";
import { dropStrayMarker, isArithmetic, unsupportedJpeg } from "./jpeg_forgive.ts";
import { DecodeError } from "./decode_error.ts";
import { decodeArithmeticJpeg } from "./codecs/jpeg_arithmetic.ts";
import { decodeJpegFast } from "./kernels/jpeg_decode.ts";
import { describeUnknown, type Format, FORMATS, readDimensions, sniffFormat } from "./formats.ts";
import {
  CODEC_WASM_SPECIFIERS,
  type CodecWasm,
  compileSource,
  type EmscriptenInit,
  type Libraries,
  loadLibraries,
  type MozJpegDecoder,
  type MozJpegEncoder,
  type PngWasmExports,
} from "./codec_libs.ts";
import { tryDecodePngFast } from "./png_decode.ts";
import { type CheckedPng, checkPngChunks } from "./png_repair.ts";

export { DecodeError } from "./decode_error.ts";

/** The result of {@link decodeImage}. */
export interface Decoded {
  /** The decoded pixels, upright (EXIF orientation applied), RGBA. */
  image: Image;
  /** The format found by magic bytes (not by file name). */
  format: JpegOrPng;
  /** What was done to the data, e.g. "CMYK JPEG converted to RGB", "EXIF orientation 6 applied". */
  notes: string[];
  /** Non-fatal problems, e.g. "JPEG data ends early (truncated?)". */
  warnings: string[];
  /** True when `image` holds a CMYK JPEG's inks (C, M, Y, K), as `cmykInks` asked. */
  inks?: boolean;
}

/** Options for {@link decodeImage}. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (checked from the header). Default {@link DEFAULT_MAX_PIXELS}. */
  maxPixels?: number;
  /** A CMYK JPEG that our decoder takes comes out as its inks (for its ICC profile). */
  cmykInks?: boolean;
}

/** Options for {@link encodeImage}. */
export interface EncodeOptions {
  /** JPEG quality 1..100 (ignored for PNG). */
  quality: number;
}

export { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS } from "./defaults.ts";
export { CODEC_WASM_SPECIFIERS, type CodecWasm, type WasmSource } from "./codec_libs.ts";

// ---------------------------------------------------------------------------
// WASM modules, initialised once per process.

interface Codecs {
  lib: Libraries;
  pngWasm: PngWasmExports;
  jpegDecoderModule: WebAssembly.Module;
  jpegDecoder: MozJpegDecoder;
  jpegEncoder: MozJpegEncoder;
}

let codecs: Codecs | null = null;
let initPromise: Promise<void> | null = null;
/** Set after the MozJPEG decoder threw: its instance is replaced before the next use. */
let jpegDecoderDirty = false;
/** Messages libjpeg printed during the current call (its stderr, captured). */
let libjpegMessages: string[] = [];

function captureMessage(s: string): void {
  libjpegMessages.push(String(s));
}

function instantiateMozJpeg<T>(
  lib: Libraries,
  factory: unknown,
  wasmModule: WebAssembly.Module,
): Promise<T> {
  const init = lib.initEmscriptenModule as unknown as EmscriptenInit<T>;
  return init(factory, wasmModule, {
    print: captureMessage,
    printErr: captureMessage,
  });
}

/**
 * Compiles and instantiates the JPEG decoder, JPEG encoder and PNG codec
 * WASM modules, once per process; later calls return the same promise (and
 * ignore their `sources`). {@link decodeImage} and {@link encodeImage} call
 * it themselves, so calling it is only needed to pay the start-up cost early
 * or to supply the WASM yourself (e.g. from bytes embedded in a compiled
 * binary). By default the `.wasm` files are read from the installed npm
 * packages via `import.meta.resolve`, which needs `--allow-read` for them.
 */
export function initCodecs(sources: CodecWasm = {}): Promise<void> {
  if (!initPromise) {
    initPromise = (async () => {
      const [lib, decMod, encMod, pngMod] = await Promise.all([
        loadLibraries(),
        compileSource(sources.jpegDecoder, CODEC_WASM_SPECIFIERS.jpegDecoder),
        compileSource(sources.jpegEncoder, CODEC_WASM_SPECIFIERS.jpegEncoder),
        compileSource(sources.png, CODEC_WASM_SPECIFIERS.png),
      ]);
      // squoosh_png builds its results with `new ImageData(...)`; Deno has
      // the global, but keep a minimal stand-in for runtimes without it.
      if (typeof (globalThis as { ImageData?: unknown }).ImageData === "undefined") {
        (globalThis as Record<string, unknown>).ImageData = class {
          constructor(
            public data: Uint8ClampedArray,
            public width: number,
            public height: number,
          ) {}
        };
      }
      // Returns the existing exports when already initialised elsewhere.
      const pngWasm = lib.pngInitSync(pngMod) as unknown as PngWasmExports;
      const [jpegDecoder, jpegEncoder] = await Promise.all([
        instantiateMozJpeg<MozJpegDecoder>(lib, lib.mozjpegDecFactory, decMod),
        instantiateMozJpeg<MozJpegEncoder>(lib, lib.mozjpegEncFactory, encMod),
      ]);
      codecs = { lib, pngWasm, jpegDecoderModule: decMod, jpegDecoder, jpegEncoder };
    })();
    initPromise.catch(() => {
      initPromise = null; // let a later call retry (e.g. after a permission fix)
    });
  }
  return initPromise;
}

async function ready(): Promise<Codecs> {
  await initCodecs();
  const c = codecs!;
  if (jpegDecoderDirty) {
    // After an exception escapes libjpeg the instance may hold leaked heap
    // and a half-unwound stack; a fresh instance is cheap (module compiled).
    c.jpegDecoder = await instantiateMozJpeg<MozJpegDecoder>(
      c.lib,
      c.lib.mozjpegDecFactory,
      c.jpegDecoderModule,
    );
    jpegDecoderDirty = false;
  }
  return c;
}

// ---------------------------------------------------------------------------
// Sniffing and header reading.

function checkPixelLimit(
  width: number,
  height: number,
  maxPixels: number,
): void {
  const n = width * height;
  if (n > maxPixels) {
    throw new DecodeError(
      `image is ${width}x${height} = ${overPixelLimit(n, maxPixels)} (--max-pixels)`,
    );
  }
}

// ---------------------------------------------------------------------------
// Decoding.

/**
 * Decodes JPEG or PNG bytes (format sniffed by magic bytes) to upright RGBA.
 *
 * - JPEG: baseline, progressive, grayscale, CMYK/YCCK (Adobe, inverted) by
 *   our own decoder (kernels/jpeg_decode.ts); what it declines via MozJPEG,
 *   or jpeg-js for CMYK/YCCK; EXIF orientation 2..8 applied like OpenCV's
 *   `imread` / Pillow's `exif_transpose`; data ending before EOI, or a stray
 *   marker after a complete image, gives a warning (or a DecodeError if
 *   nothing decodes); arithmetic coding via libjpeg-turbo (codecs/); lossless,
 *   hierarchical, 12-bit: refused by name.
 * - PNG: 8/16-bit, not interlaced, by our own decoder (png_decode.ts), the
 *   rest by the Rust `png` crate; any bit depth/colour type (16-bit reduced to 8 by taking the high
 *   byte, as Pillow and OpenCV do), palette + tRNS and alpha kept in RGBA;
 *   a CRC mismatch in a critical chunk is a {@link DecodeError}; libpng's
 *   warnings are warnings (malformed ancillary chunk, IEND missing).
 *
 * Throws {@link DecodeError} for anything undecodable, including images over
 * `maxPixels` (checked from the header before decoding).
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<Decoded> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) {
    throw new RangeError(`maxPixels must be positive, got ${maxPixels}`);
  }
  if (bytes.length === 0) throw new DecodeError("empty file");
  const format = sniffFormat(bytes);
  if (format === null) throw new DecodeError(describeUnknown(bytes));
  if (format !== "jpeg" && format !== "png") {
    // The table's other formats are decodeAny's (format_io.ts), not this JPEG/PNG codec's.
    throw new DecodeError(`a ${FORMATS[format].label} file, not JPEG or PNG (decodeAny reads it)`);
  }
  const dims = readDimensions(bytes);
  if (!dims) {
    throw new DecodeError(
      `truncated or corrupt ${FORMATS[format].label} data (no valid ${CODECS[format].header})`,
    );
  }
  checkPixelLimit(dims.width, dims.height, maxPixels);
  const info = format === "jpeg" ? readJpegInfo(bytes) : null;
  const unsupported = info && unsupportedJpeg(info);
  if (unsupported) throw new DecodeError(unsupported);
  const stray = info && dropStrayMarker(bytes, info); // a warning, and what to decode
  // PNG: CRCs, a cut inside the image data, malformed ancillary chunks, no IEND.
  const png = format === "png" ? checkPngChunks(bytes) : null;
  if (png && "error" in png) throw new DecodeError(png.error);
  // Our decoders first (PNG: the forgiven stream), before initialising the
  // codecs, so a worker that only meets what they take never compiles them.
  const inks = options.cmykInks === true && info?.components === 4;
  const fastWarnings: string[] = []; // what our decoder forgave in damaged data
  const fast = png ? await tryDecodePngFast(png.bytes) : isArithmetic(info!) // libjpeg-turbo's WASM build: ours cannot
    ? await decodeArithmeticJpeg(stray?.bytes ?? bytes)
    : tryDecodeJpegFast(stray?.bytes ?? bytes, inks, fastWarnings);
  const c = fast ? null : await ready();
  try {
    const d = png ? decodePng(c, png, fast) : decodeJpeg(c, stray?.bytes ?? bytes, maxPixels, fast);
    if (fast) d.warnings = [...new Set([...fastWarnings, ...d.warnings])];
    if (stray) d.warnings.unshift(stray.warning);
    if (inks && fast) d.inks = true;
    return d;
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    // Safety net: bad input must never surface as a TypeError/RangeError.
    throw new DecodeError(
      `corrupt ${FORMATS[format].label} data (${errorText(e)})`,
      { cause: e },
    );
  }
}

/** libjpeg messages that mean "the data stopped early". */
const TRUNCATION_MESSAGES = /premature end|empty input file/i;
const TRUNCATED_JPEG_WARNING = "JPEG data ends early (truncated?)";

/**
 * Our WASM SIMD decoder, for baseline and progressive JPEGs (bit-exact with
 * MozJPEG's decoder on them, ~2x faster) and Adobe CMYK/YCCK ones (libjpeg's
 * samples, converted as Pillow does); damaged or truncated entropy data as
 * libjpeg-turbo decodes it, with its warnings pushed to `warnings`; null for
 * anything it does not take (exotic kinds, progressive files missing scans):
 * MozJPEG (or jpeg-js for CMYK) decodes those and reports what is wrong.
 */
function tryDecodeJpegFast(bytes: Uint8Array, inks: boolean, warnings: string[]): Image | null {
  try {
    return decodeJpegFast(bytes, inks, warnings);
  } catch {
    return null; // e.g. wasm memory could not grow: MozJPEG gets its chance
  }
}

/**
 * Decodes a JPEG. `fast` is our decoder's result when it already took the
 * file; otherwise `c` (then initialised) decodes it with MozJPEG, or jpeg-js
 * for CMYK/YCCK.
 */
function decodeJpeg(
  c: Codecs | null,
  bytes: Uint8Array,
  maxPixels: number,
  fast: Image | null,
): Decoded {
  const info = readJpegInfo(bytes) as JpegInfo; // non-null: readDimensions passed
  const notes: string[] = [];
  const warnings: string[] = [];
  let image: Image;
  if (fast) {
    image = fast;
    if (info.components === 1) notes.push("grayscale JPEG expanded to RGB");
    if (info.components === 4) {
      notes.push(`${info.adobeTransform === 2 ? "YCCK" : "CMYK"} JPEG converted to RGB`);
    }
  } else if (info.components === 4) {
    if (info.adobeTransform === null) {
      throw new DecodeError(
        "4-channel JPEG without an Adobe marker is not supported (unknown CMYK convention)",
      );
    }
    try {
      image = c!.lib.decodeCmykJpeg(bytes, maxPixels);
    } catch (e) {
      throw new DecodeError(
        `${info.hasEoi ? "corrupt" : "truncated or corrupt"} CMYK JPEG data (${errorText(e)})`,
      );
    }
    notes.push(
      `${info.adobeTransform === 2 ? "YCCK" : "CMYK"} JPEG converted to RGB`,
    );
  } else {
    libjpegMessages = [];
    let result: ImageData | null = null;
    let thrown = false;
    try {
      result = c!.jpegDecoder.decode(bytes, false);
    } catch {
      thrown = true; // a C++ exception object, not an Error; details are in libjpegMessages
      jpegDecoderDirty = true;
    }
    const messages = libjpegMessages;
    libjpegMessages = [];
    if (thrown || !result) {
      const last = messages.at(-1);
      const truncated = !info.hasEoi ||
        messages.some((m) => TRUNCATION_MESSAGES.test(m));
      throw new DecodeError(
        `${truncated ? "truncated or corrupt" : "corrupt"} JPEG data${
          last ? ` (decoder: ${last})` : ""
        }`,
      );
    }
    const d = result.data;
    image = {
      width: result.width,
      height: result.height,
      data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
    };
    for (const m of messages) {
      warnings.push(
        TRUNCATION_MESSAGES.test(m) ? TRUNCATED_JPEG_WARNING : `JPEG decoder warning: ${m}`,
      );
    }
    if (info.components === 1) notes.push("grayscale JPEG expanded to RGB");
  }
  if (!info.hasEoi) warnings.push(TRUNCATED_JPEG_WARNING);
  if (info.exif) {
    const o = readExifOrientation(info.exif);
    if (o !== null && o >= 2 && o <= 8) {
      image = applyOrientation(image, o);
      notes.push(`EXIF orientation ${o} applied (${describeOrientation(o)})`);
    } else if (o !== null && o !== 1) {
      warnings.push(`ignored invalid EXIF orientation value ${o}`);
    }
  }
  return { image, format: "jpeg", notes, warnings: [...new Set(warnings)] };
}

function decodePng(c: Codecs | null, png: CheckedPng, fast: Image | null): Decoded {
  const { info, warnings } = png;
  const notes = info.bitDepth === 16 ? ["16-bit PNG reduced to 8 bits per channel"] : [];
  if (fast) return { image: fast, format: "png", notes, warnings };
  c = c!; // initialised when our decoder declined
  let result: ImageData;
  const sp = c.pngWasm.__wbindgen_add_to_stack_pointer(0);
  try {
    result = c.lib.pngDecode(png.bytes);
  } catch (e) {
    // A Rust `unwrap_throw` abandons its frames without restoring the
    // wasm-bindgen shadow stack pointer (~1.4 KB per failure; after ~700
    // failures every call hits "memory access out of bounds"): restore it.
    // Its heap allocations (~200 KB per failure) stay leaked, as the glue is
    // a module singleton that cannot be re-instantiated.
    const now = c.pngWasm.__wbindgen_add_to_stack_pointer(0);
    c.pngWasm.__wbindgen_add_to_stack_pointer(sp - now);
    if (info.truncated) throw new DecodeError("truncated PNG data");
    const detail = errorText(e);
    throw new DecodeError(
      /unwrap_throw/.test(detail) ? "corrupt PNG data" : `corrupt PNG data (decoder: ${detail})`,
    );
  }
  const d = result.data;
  const image = {
    width: result.width,
    height: result.height,
    data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
  return { image, format: "png", notes, warnings };
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === "string" ? e : "unknown error";
}

// ---------------------------------------------------------------------------
// Encoding.

/**
 * Composites RGBA over opaque white, rounding to nearest:
 * `c' = (c * a + 255 * (255 - a)) / 255`. Returns the input data itself when
 * every pixel is already opaque.
 */
export function flattenOnWhite(data: Uint8Array): Uint8Array {
  let i = 3;
  while (i < data.length && data[i] === 255) i += 4;
  if (i >= data.length) return data;
  const out = data.slice();
  for (; i < out.length; i += 4) {
    const a = out[i];
    if (a === 255) continue;
    const bg = 255 * (255 - a) + 127; // +127: round to nearest on / 255
    out[i - 3] = ((out[i - 3] * a + bg) / 255) | 0;
    out[i - 2] = ((out[i - 2] * a + bg) / 255) | 0;
    out[i - 1] = ((out[i - 1] * a + bg) / 255) | 0;
    out[i] = 255;
  }
  return out;
}

/**
 * Encodes an image. JPEG: MozJPEG with jsquash's defaults (progressive,
 * optimised Huffman, 4:2:0 chroma) at `options.quality` (integer 1..100),
 * alpha flattened onto white first. PNG: 8-bit RGBA, alpha kept (`quality`
 * ignored). Throws `RangeError` for an invalid image or quality.
 */
export async function encodeImage(
  image: Image,
  format: JpegOrPng,
  options: EncodeOptions,
): Promise<Uint8Array> {
  assertImage(image);
  const c = await ready();
  const codec = Object.hasOwn(CODECS, format) ? CODECS[format] : null;
  if (!codec) throw new RangeError(`unknown format ${format}`);
  return codec.encode(c, image, options);
}

function encodeJpeg(c: Codecs, image: Image, options: EncodeOptions): Uint8Array {
  const { width, height } = image;
  const q = options.quality;
  if (!Number.isInteger(q) || q < 1 || q > 100) {
    throw new RangeError(`JPEG quality must be an integer 1..100, got ${q}`);
  }
  const data = flattenOnWhite(image.data);
  try {
    return c.jpegEncoder.encode(data, width, height, {
      ...c.lib.mozjpegDefaultOptions,
      quality: q,
    });
  } catch (e) {
    throw new Error(`JPEG encoding failed (${errorText(e)})`);
  }
}

function encodePng(c: Codecs, image: Image): Uint8Array {
  const sp = c.pngWasm.__wbindgen_add_to_stack_pointer(0);
  try {
    return c.lib.pngEncode(image.data, image.width, image.height, 8);
  } catch (e) {
    const now = c.pngWasm.__wbindgen_add_to_stack_pointer(0);
    c.pngWasm.__wbindgen_add_to_stack_pointer(sp - now);
    throw new Error(`PNG encoding failed (${errorText(e)})`);
  }
}

type JpegOrPng = Extract<Format, "jpeg" | "png">;

/** How JPEG and PNG are decoded and encoded. */
interface Codec {
  /** What a header the format's dimensions come from is called, for messages. */
  header: string;
  /** Encodes. */
  encode(c: Codecs, image: Image, options: EncodeOptions): Uint8Array;
}

/** The decoder and encoder of JPEG and PNG (`format_io.ts` handles the table's other formats). */
const CODECS: Record<JpegOrPng, Codec> = {
  jpeg: { header: "frame header", encode: encodeJpeg },
  png: { header: "IHDR header", encode: encodePng },
};

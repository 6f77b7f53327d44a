/**
 * WebP in and out: libwebp's decoder and encoder as built by jsquash
 * (`@jsquash/webp`), loaded on first need. Decoding gives RGBA (lossy,
 * lossless, alpha; an animation's first frame). The header reader gives the
 * canvas size without decoding, for the pixel limit.
 *
 * @module
 */

import type { Image } from "../image.ts";
import { LazyModule, ownBytes } from "./wasm.ts";
import { importNpm } from "../npm.ts";

interface WebpDecoder {
  decode(data: Uint8Array): { data: Uint8ClampedArray; width: number; height: number } | null;
}

interface WebpEncoder {
  encode(
    data: Uint8Array | Uint8ClampedArray,
    width: number,
    height: number,
    options: Record<string, number>,
  ): Uint8Array | null;
}

const decoder = new LazyModule<WebpDecoder>(
  "WebP decoder",
  () =>
    importNpm<typeof import("@jsquash/webp/codec/dec/webp_dec.js")>(
      "@jsquash/webp/codec/dec/webp_dec.js",
    ),
  "@jsquash/webp/codec/dec/webp_dec.wasm",
);
const encoder = new LazyModule<WebpEncoder>(
  "WebP encoder",
  () =>
    importNpm<typeof import("@jsquash/webp/codec/enc/webp_enc_simd.js")>(
      "@jsquash/webp/codec/enc/webp_enc_simd.js",
    ),
  "@jsquash/webp/codec/enc/webp_enc_simd.wasm",
);

/** True for a RIFF container of type WEBP. */
export function isWebp(b: Uint8Array): boolean {
  return b.length >= 16 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
    b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50;
}

/** The canvas size from the first chunk (VP8X, VP8 or VP8L), or null. */
export function readWebpSize(b: Uint8Array): { width: number; height: number } | null {
  if (!isWebp(b) || b.length < 30) return null;
  const fourcc = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (fourcc === "VP8X") {
    return {
      width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)),
      height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)),
    };
  }
  if (fourcc === "VP8 ") {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return { width: (b[26] | (b[27] << 8)) & 0x3fff, height: (b[28] | (b[29] << 8)) & 0x3fff };
  }
  if (fourcc === "VP8L") {
    if (b[20] !== 0x2f) return null;
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return null;
}

/**
 * Decodes a WebP file to RGBA; an animation gives its first frame, placed on
 * a transparent canvas of the animation's size. Throws an Error with a short
 * reason when libwebp refuses it.
 */
export async function decodeWebp(bytes: Uint8Array): Promise<Image> {
  const frame = firstAnimationFrame(bytes);
  if (frame) {
    const image = await decodeStill(frame.file);
    return place(image, frame);
  }
  return await decodeStill(bytes);
}

async function decodeStill(bytes: Uint8Array): Promise<Image> {
  const result = await decoder.run((d) => d.decode(bytes));
  if (!result) throw new Error("corrupt or truncated WebP data");
  return { width: result.width, height: result.height, data: ownBytes(result.data) };
}

interface Frame {
  /** A still WebP file made of the frame's own chunks. */
  file: Uint8Array;
  x: number;
  y: number;
  canvasWidth: number;
  canvasHeight: number;
}

/**
 * The first frame of an animated WebP (VP8X with the animation flag, ANMF
 * chunks) as a still WebP file of its own: libwebp's still-image decoder
 * refuses animations. Null for a still image.
 */
function firstAnimationFrame(b: Uint8Array): Frame | null {
  const size = readWebpSize(b);
  if (!size || !isWebp(b) || String.fromCharCode(...b.subarray(12, 16)) !== "VP8X") return null;
  if (!(b[20] & 0x02)) return null; // not animated
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = 12;
  while (i + 8 <= b.length) {
    const type = String.fromCharCode(...b.subarray(i, i + 4));
    const len = v.getUint32(i + 4, true);
    const end = i + 8 + len;
    if (end > b.length) break;
    if (type === "ANMF" && len >= 16) {
      const p = i + 8;
      const x = 2 * (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16));
      const y = 2 * (b[p + 3] | (b[p + 4] << 8) | (b[p + 5] << 16));
      const w = 1 + (b[p + 6] | (b[p + 7] << 8) | (b[p + 8] << 16));
      const h = 1 + (b[p + 9] | (b[p + 10] << 8) | (b[p + 11] << 16));
      const chunks = b.subarray(p + 16, end); // ALPH? then VP8/VP8L
      const hasAlpha = chunks.length >= 4 &&
        String.fromCharCode(...chunks.subarray(0, 4)) === "ALPH";
      const vp8x = new Uint8Array(18);
      vp8x.set([0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, hasAlpha ? 0x10 : 0]);
      vp8x.set([(w - 1) & 0xff, ((w - 1) >> 8) & 0xff, (w - 1) >> 16], 12);
      vp8x.set([(h - 1) & 0xff, ((h - 1) >> 8) & 0xff, (h - 1) >> 16], 15);
      const body = 4 + vp8x.length + chunks.length;
      const file = new Uint8Array(8 + body);
      file.set([0x52, 0x49, 0x46, 0x46]);
      new DataView(file.buffer).setUint32(4, body, true);
      file.set([0x57, 0x45, 0x42, 0x50], 8);
      file.set(vp8x, 12);
      file.set(chunks, 30);
      return { file, x, y, canvasWidth: size.width, canvasHeight: size.height };
    }
    i = end + (len & 1);
  }
  throw new Error("animated WebP without a frame");
}

/** Places a decoded frame on a transparent canvas; a frame that does not fit is an error. */
function place(image: Image, f: Frame): Image {
  if (f.x + image.width > f.canvasWidth || f.y + image.height > f.canvasHeight) {
    throw new Error("corrupt WebP data (first frame outside the canvas)");
  }
  if (f.x === 0 && f.y === 0 && image.width === f.canvasWidth && image.height === f.canvasHeight) {
    return image;
  }
  const data = new Uint8Array(f.canvasWidth * f.canvasHeight * 4);
  for (let y = 0; y < image.height; y++) {
    const row = image.data.subarray(y * image.width * 4, (y + 1) * image.width * 4);
    data.set(row, ((f.y + y) * f.canvasWidth + f.x) * 4);
  }
  return { width: f.canvasWidth, height: f.canvasHeight, data };
}

/** Encodes RGBA as lossy WebP at `quality` (0..100; libwebp's default 75), alpha kept. */
export async function encodeWebp(image: Image, quality: number): Promise<Uint8Array> {
  const { defaultOptions } = await importNpm<typeof import("@jsquash/webp/meta.js")>(
    "@jsquash/webp/meta.js",
  );
  const out = await encoder.run((e) =>
    e.encode(image.data, image.width, image.height, { ...defaultOptions, quality })
  );
  if (!out) throw new Error("WebP encoding failed");
  return ownBytes(out);
}

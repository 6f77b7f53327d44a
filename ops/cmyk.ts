/**
 * Decoding of four-component (CMYK / YCCK) JPEGs, which the MozJPEG WASM
 * decoder refuses ("Unsupported color conversion request"). Uses the pure-JS
 * `jpeg-js` decoder, which honours the Adobe APP14 marker: transform 2 means
 * YCCK, 0 plain CMYK, and in both cases the inks are stored inverted (the
 * Photoshop convention, also what ImageMagick and Pillow write). It converts
 * naively, R = (1 - C)(1 - K) etc., the same formula ImageMagick uses when
 * no ICC profile is involved.
 *
 * @module
 */

import type { Image } from "./image.ts";

type JpegJsDecode = (
  data: Uint8Array,
  opts: {
    useTArray: true;
    formatAsRGBA: true;
    tolerantDecoding: boolean;
    maxResolutionInMP: number;
    maxMemoryUsageInMB: number;
  },
) => { width: number; height: number; data: Uint8Array };

/**
 * Decodes a CMYK or YCCK JPEG to RGBA with `decodeJpegJs`, the default export
 * of `jpeg-js/lib/decoder.js` (loaded by `codec_libs.ts`). Throws jpeg-js's `Error`s as they are
 * (the caller translates them). `maxPixels` is passed on as jpeg-js's own
 * resolution guard.
 */
export function decodeCmykJpeg(
  decodeJpegJs: unknown,
  bytes: Uint8Array,
  maxPixels: number,
): Image {
  const decode = decodeJpegJs as JpegJsDecode;
  const out = decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    tolerantDecoding: true,
    maxResolutionInMP: maxPixels / 1e6,
    // jpeg-js counts its component planes and the output; about 9 bytes a
    // pixel for CMYK. Its default cap (512 MB) would refuse ~50 MP images.
    maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 10) / 2 ** 20)),
  });
  return { width: out.width, height: out.height, data: out.data };
}

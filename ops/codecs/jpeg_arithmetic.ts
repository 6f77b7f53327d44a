/**
 * Arithmetic-coded JPEGs (SOF9, SOF10), which neither our decoder nor
 * MozJPEG's build reads: libjpeg-turbo built to WASM
 * (`@cornerstonejs/codec-libjpeg-turbo-8bit`, its decoder-only build, 0.3
 * MB), loaded on the first such file. Its pixels are libjpeg-turbo's, as
 * Pillow's are (bit-exact on the corpus of `tests/corpus_check.py`).
 *
 * @module
 */

import { DecodeError } from "../decode_error.ts";
import type { Image } from "../image.ts";
import { LazyModule } from "./wasm.ts";
import { importNpm } from "../npm.ts";

interface Decoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; componentCount: number };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

const libjpeg = new LazyModule<{ JPEGDecoder: new () => Decoder }>(
  "libjpeg-turbo decoder",
  () => importNpm<{ default: unknown }>("@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs"),
  "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm",
);

/**
 * Decodes an arithmetic-coded gray or YCbCr JPEG to RGBA; throws
 * {@link DecodeError} for damaged data or four components.
 */
export async function decodeArithmeticJpeg(bytes: Uint8Array): Promise<Image> {
  let out: Image | string;
  try {
    out = await libjpeg.run((m) => {
      const d = new m.JPEGDecoder();
      try {
        d.getEncodedBuffer(bytes.length).set(bytes);
        d.decode();
        const { width, height, componentCount: n } = d.getFrameInfo();
        if (n !== 1 && n !== 3) return "arithmetic-coded CMYK JPEG is not supported";
        const src = d.getDecodedBuffer();
        const data = new Uint8Array(width * height * 4);
        for (let i = 0, o = 0; o < data.length; i += n, o += 4) {
          data[o] = src[i];
          data[o + 1] = src[i + (n >> 1)];
          data[o + 2] = src[i + n - 1];
          data[o + 3] = 255;
        }
        return { width, height, data };
      } finally {
        d.delete();
      }
    });
  } catch (e) {
    if (e instanceof Error && e.name === "CodecUnavailableError") throw e;
    const last = libjpeg.messages.at(-1);
    throw new DecodeError(`corrupt arithmetic-coded JPEG data${last ? ` (decoder: ${last})` : ""}`);
  }
  if (typeof out === "string") throw new DecodeError(out);
  return out;
}

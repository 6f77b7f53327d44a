/**
 * AVIF in and out: libavif (with dav1d to decode, libaom to encode) as
 * built by jsquash (`@jsquash/avif`), loaded on first need. libavif leaves
 * the container's transforms to the caller; {@link decodeAvif} applies them
 * (`clap` crop, `irot` rotation, `imir` mirror, in the file's order), so the
 * image comes out upright once, as libheif and browsers show it.
 *
 * @module
 */

import type { Image } from "../image.ts";
import { applyHeifTransforms } from "./transforms.ts";
import type { HeifInfo } from "../isobmff.ts";
import { LazyModule, ownBytes } from "./wasm.ts";
import { importNpm } from "../npm.ts";

interface AvifDecoder {
  decode(
    data: Uint8Array,
    bitDepth: number,
  ): { data: Uint8ClampedArray; width: number; height: number } | null;
}

interface AvifEncoder {
  encode(
    data: Uint8Array,
    width: number,
    height: number,
    options: Record<string, number | boolean>,
  ): Uint8Array | null;
}

const decoder = new LazyModule<AvifDecoder>(
  "AVIF decoder",
  () =>
    importNpm<typeof import("@jsquash/avif/codec/dec/avif_dec.js")>(
      "@jsquash/avif/codec/dec/avif_dec.js",
    ),
  "@jsquash/avif/codec/dec/avif_dec.wasm",
);
const encoder = new LazyModule<AvifEncoder>(
  "AVIF encoder",
  () =>
    importNpm<typeof import("@jsquash/avif/codec/enc/avif_enc.js")>(
      "@jsquash/avif/codec/enc/avif_enc.js",
    ),
  "@jsquash/avif/codec/enc/avif_enc.wasm",
);

/** Decodes an AVIF file's primary image to upright RGBA (8 bits per channel). */
export async function decodeAvif(bytes: Uint8Array, info: HeifInfo): Promise<Image> {
  const result = await decoder.run((d) => d.decode(bytes, 8));
  if (!result) throw new Error("corrupt or unsupported AVIF data");
  const image = { width: result.width, height: result.height, data: ownBytes(result.data) };
  return applyHeifTransforms(image, info.transforms);
}

/**
 * Encodes RGBA as AVIF at `quality` (1..100, mapped to libavif's 0..100
 * quality scale as given), 4:2:0, speed 6 (jsquash's defaults otherwise).
 */
export async function encodeAvif(image: Image, quality: number): Promise<Uint8Array> {
  const { defaultOptions } = await importNpm<typeof import("@jsquash/avif/meta.js")>(
    "@jsquash/avif/meta.js",
  );
  const out = await encoder.run((e) =>
    e.encode(image.data, image.width, image.height, { ...defaultOptions, quality })
  );
  if (!out) throw new Error("AVIF encoding failed");
  return ownBytes(out);
}

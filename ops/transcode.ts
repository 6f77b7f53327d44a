/**
 * The fused fast path for the common job: a JPEG in (baseline, progressive
 * or Adobe CMYK/YCCK, whatever `decodeJpegFastAt` takes), the pipeline's
 * steps, a JPEG out from the fast encoder, all inside the kernels'
 * WebAssembly memory. Only the file's bytes go in and only the output
 * file's bytes come out: no decoded image is copied between JS and wasm
 * memory, and no image-sized buffer is allocated (or left for the garbage
 * collector) per image.
 *
 * It produces exactly the bytes of `decodeImage` → `applyPipeline` →
 * `encodeJpegFast` (tested in `transcode_test.ts`): the same kernels run in
 * the same order, on resident images. Anything it does not take (PNG,
 * damaged or exotic JPEGs, EXIF orientations that turn the image, a non-sRGB
 * ICC profile, images over the pixel limit) returns null, and the caller takes the
 * general path, which also explains what is wrong.
 *
 * @module
 */

import { flattenOnWhite } from "./codec.ts";
import { readJpegInfo } from "./jpeg_markers.ts";
import { readExifOrientation } from "./exif.ts";
import { needsConversion } from "./color.ts";
import { readJpegIcc } from "./icc.ts";
import { checkOutputSize, planResize, resizeStepAt, type Step } from "./pipeline.ts";
import { Arena, encodeJpegAt, flipAt, grayAt, type Resident, thresholdAt } from "./kernels/mod.ts";
import { decodeJpegFastAt } from "./kernels/jpeg_decode.ts";
import { sniffFormat } from "./formats.ts";

/**
 * The JPEG decoding scale for a pipeline that starts with `first` (libvips'
 * and sharp's "shrink-on-load"): the largest of 8, 4 and 2 such that
 * decoding at that fraction of the size still leaves at least as many pixels
 * both ways as the resize keeps (so the resize still only shrinks); 1 when
 * none does or the first step is not a resize.
 */
export function shrinkOnLoad(
  size: { width: number; height: number },
  first: Step | undefined,
): 1 | 2 | 4 | 8 {
  if (first?.op !== "resize") return 1;
  const plan = planResize(size.width, size.height, first);
  for (const scale of [8, 4, 2] as const) {
    if (plan.scaledWidth * scale <= size.width && plan.scaledHeight * scale <= size.height) {
      return scale;
    }
  }
  return 1;
}

/** What a fused transcode produced. */
export interface Transcoded {
  /** The output JPEG file. */
  bytes: Uint8Array;
  /** Output size in pixels. */
  width: number;
  /** Output size in pixels. */
  height: number;
  /** Milliseconds spent decoding. */
  decode: number;
  /** Milliseconds spent in each step, in pipeline order. */
  steps: number[];
  /** Milliseconds spent encoding. */
  encode: number;
}

/**
 * One step on a resident image (the resident twin of `applyStep`). `size`:
 * the size the image stands for, when it was decoded at a reduced scale (see
 * `resizeStepAt`).
 */
function stepAt(
  a: Arena,
  image: Resident,
  step: Step,
  size: { width: number; height: number } = image,
): Resident {
  switch (step.op) {
    case "resize": {
      // JPEG has no alpha: the general path flattens the image on white before encoding. The
      // decoded pixels are opaque, so only contain's bars would change: flatten their colour.
      const background = step.background &&
        [...flattenOnWhite(new Uint8Array(step.background))] as [number, number, number, number];
      return resizeStepAt(a, image, background ? { ...step, background } : step, size);
    }
    case "to_gray":
      return grayAt(a, image);
    case "threshold":
      return thresholdAt(a, image, step.value);
    case "flip":
      return flipAt(a, image, step.axis);
  }
}

/**
 * Decodes `bytes`, applies `steps` and encodes a JPEG at `quality` with the
 * fast encoder, without leaving wasm memory; null when the input is not a
 * JPEG this path takes (see the module doc) or has more than `maxPixels`.
 * Throws `OutputTooLargeError` when the output would have more than `maxPixels`.
 * `toSrgb`, when given, converts the decoded RGBA in place (the JPEG's ICC
 * profile to sRGB, `color.ts`), right after decoding (at the reduced scale
 * of shrink-on-load); without it a JPEG with a non-sRGB profile is refused.
 */
export function transcodeJpegFast(
  bytes: Uint8Array,
  steps: readonly Step[],
  quality: number,
  maxPixels: number,
  toSrgb?: (rgba: Uint8Array) => void,
): Transcoded | null {
  if (sniffFormat(bytes) !== "jpeg") return null;
  const info = readJpegInfo(bytes);
  if (!info || info.precision !== 8 || info.components === 2) {
    return null;
  }
  if (info.width * info.height > maxPixels || !info.hasEoi) return null;
  const orientation = info.exif ? readExifOrientation(info.exif) : null;
  if (orientation !== null && orientation !== 1) return null;
  checkOutputSize(info.width, info.height, steps, maxPixels);
  // A non-sRGB ICC profile and no converter: the general path converts the colours.
  if (!toSrgb && needsConversion(readJpegIcc(bytes))) return null;
  let a = new Arena();
  let started = performance.now();
  const scale = shrinkOnLoad(info, steps[0]);
  let image: Resident | null;
  try {
    image = decodeJpegFastAt(a, bytes, scale);
    if (!image && scale !== 1) {
      // too narrow once scaled: decode at full size, from a fresh arena
      a = new Arena();
      image = decodeJpegFastAt(a, bytes);
    }
  } catch {
    return null; // e.g. wasm memory could not grow: the general path gets its chance
  }
  if (!image) return null;
  toSrgb?.(a.view().subarray(image.ptr, image.ptr + image.width * image.height * 4));
  const decode = performance.now() - started;
  const times: number[] = [];
  for (const [i, step] of steps.entries()) {
    started = performance.now();
    image = stepAt(a, image, step, i === 0 ? info : image);
    times.push(performance.now() - started);
  }
  // A decoded JPEG is opaque and every step keeps it so (see stepAt): no flattening to do.
  started = performance.now();
  const out = encodeJpegAt(a, image, quality);
  return {
    bytes: out,
    width: image.width,
    height: image.height,
    decode,
    steps: times,
    encode: performance.now() - started,
  };
}

/**
 * Large PNGs resized as their rows arrive: when a pipeline starts with a
 * resize, a PNG of at least {@link STREAM_MIN_PIXELS} is inflated
 * incrementally (the runtime's `DecompressionStream`), unfiltered a strip
 * at a time (`png_decode.ts`) and fed to a {@link RowResizer}, so neither
 * the scanlines nor the full-size RGBA image are ever held whole. The
 * result is the bytes `decodeImage` → the resize step would give (tested in
 * `png_stream_test.ts`).
 *
 * The chunks are checked as `decodeImage` checks them (`png_repair.ts`): what
 * libpng forgives (a bad ancillary CRC, a malformed ancillary chunk, a
 * missing IEND) streams too, with the same warnings. Anything else returns
 * null and takes the general path, which also explains what is wrong: a PNG
 * our decoder declines, a damaged one (a bad critical CRC, cut inside its
 * image data, a stream that does not hold exactly the scanlines), one with
 * an ICC profile that would be converted (at full size there) or cannot be
 * read, one over the pixel limit, a resize that does not shrink both ways.
 * An sRGB profile streams (the general path would leave the pixels as they
 * are), and so does any RGB profile with `keepIcc` (returned, to embed).
 *
 * @module
 */

import type { Image } from "./image.ts";
import { inflateIcc, isSrgbProfile, readPngIccCompressed, summariseIcc } from "./icc.ts";
import { readPngHeader } from "./png_chunks.ts";
import {
  decodePngStrips,
  inflatePieces,
  type PngLayout,
  readPngLayout,
  slices,
} from "./png_decode.ts";
import { checkPngChunks } from "./png_repair.ts";
import {
  checkOutputSize,
  planResize,
  type ResizePlan,
  type ResizeStep,
  type Step,
} from "./pipeline.ts";
import { Arena, placeAt } from "./kernels/mod.ts";
import { RowResizer } from "./kernels/resize_rows.ts";

/**
 * Smallest PNG (in pixels) worth streaming: below it the whole image fits
 * comfortably, and one `inflateSync` is cheaper than a stream's chunks.
 */
export const STREAM_MIN_PIXELS = 8_000_000;

/** What {@link decodePngResized} made of a PNG. */
export interface StreamedPng {
  /** The image after the first step. */
  image: Image;
  /** What was forgiven in the chunks, as `decodeImage` words it. */
  warnings: string[];
  /** With `keepIcc`: the input's ICC profile (to embed in the output), as `decodeAny` gives it. */
  icc: Uint8Array | null;
}

/**
 * The input's ICC profile, if any, when the streamed path may take it: `null`
 * inside for none; `undefined` when the general path must (a profile to
 * convert, one that cannot be read, a CMYK one with `keepIcc`).
 */
async function streamableIcc(
  bytes: Uint8Array,
  keepIcc: boolean,
): Promise<{ icc: Uint8Array | null } | undefined> {
  const z = readPngIccCompressed(bytes);
  if (!z) return { icc: null };
  const icc = await inflateIcc(z);
  if (!icc) return undefined;
  if (keepIcc) return summariseIcc(icc)?.colorSpace === "CMYK" ? undefined : { icc };
  return isSrgbProfile(icc) ? { icc: null } : undefined;
}

/** What {@link prepareResized} checked before any pixel is decoded. */
export interface PreparedPng {
  /** The decoder's layout (its `idat` are the input's, or empty for a skeleton). */
  L: PngLayout;
  /** The resize step, `steps[0]`. */
  step: ResizeStep;
  /** Its plan for this image. */
  plan: ResizePlan;
  /** What was forgiven in the chunks, as `decodeImage` words it. */
  warnings: string[];
  /** With `keepIcc`: the input's ICC profile; otherwise null. */
  icc: Uint8Array | null;
}

/**
 * The checks of {@link decodePngResized} on `bytes` (a whole PNG, or its
 * chunks with empty image data), before any pixel: null when this path does
 * not take the file. Throws `OutputTooLargeError` (via `checkOutputSize`)
 * as the general path would.
 */
export async function prepareResized(
  bytes: Uint8Array,
  steps: readonly Step[],
  maxPixels: number,
  minPixels = STREAM_MIN_PIXELS,
  keepIcc = false,
): Promise<PreparedPng | null> {
  const step = steps[0];
  if (step?.op !== "resize") return null;
  const header = readPngHeader(bytes);
  if (!header) return null;
  const n = header.width * header.height;
  if (n < minPixels || n > maxPixels) return null;
  const profile = await streamableIcc(bytes, keepIcc);
  if (!profile) return null;
  // (a stream with something forgiven is a copy without it: only damaged files pay for that)
  const checked = checkPngChunks(bytes);
  if ("error" in checked) return null;
  const L = readPngLayout(checked.bytes);
  if (!L) return null;
  const plan = planResize(L.width, L.height, step);
  if (!RowResizer.takes(L.width, L.height, plan.scaledWidth, plan.scaledHeight, step.kernel)) {
    return null;
  }
  checkOutputSize(L.width, L.height, steps, maxPixels);
  return { L, step, plan, warnings: checked.warnings, icc: profile.icc };
}

/**
 * Inflates `compressed` (the zlib stream of the image data, in pieces of at
 * most `SLICE` bytes), unfilters it a strip at a time and resizes the
 * rows as they arrive, as `p` planned; null when the stream is damaged or
 * does not hold exactly the scanlines.
 */
export async function resizeRows(
  p: PreparedPng,
  compressed: Iterable<Uint8Array<ArrayBuffer>> | AsyncIterable<Uint8Array<ArrayBuffer>>,
): Promise<Image | null> {
  const { L, step, plan } = p;
  const a = new Arena();
  let resizer: RowResizer | null = null;
  const inflated = inflatePieces(compressed);
  try {
    const ok = await decodePngStrips(L, a, inflated, (ptr, _y0, rows) => {
      // allocated after the decoder's buffers, on the first strip (its size is the strip size)
      resizer ??= new RowResizer(
        a,
        L.width,
        L.height,
        plan.scaledWidth,
        plan.scaledHeight,
        rows,
        step.kernel,
      );
      resizer.push(ptr, rows);
    });
    if (!ok || !resizer) return null;
  } catch {
    return null; // a damaged zlib stream: the general path reports it
  } finally {
    await inflated.cancel().catch(() => {});
  }
  let out = (resizer as RowResizer).finish();
  if (plan.width !== plan.scaledWidth || plan.height !== plan.scaledHeight) {
    out = placeAt(a, out, plan.width, plan.height, plan.left, plan.top, step.background);
  }
  return a.take(out);
}

/**
 * Decodes `bytes` and applies `steps[0]` (a resize, with its kernel) in one
 * pass, without holding the full-size image; null when this path does not
 * take the file (see the module doc). Throws `OutputTooLargeError` (via
 * `checkOutputSize`) as the general path would. Its arguments are
 * {@link prepareResized}'s: bytes, steps, maxPixels, minPixels, keepIcc.
 */
export async function decodePngResized(
  ...args: Parameters<typeof prepareResized>
): Promise<StreamedPng | null> {
  const p = await prepareResized(...args);
  const image = p && await resizeRows(p, slices(p.L.idat));
  return image && { image, warnings: p.warnings, icc: p.icc };
}

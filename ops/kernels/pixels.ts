/**
 * The pixel kernels: gray, threshold, flip, place (pad) and resize, each as
 * a copying function on an {@link Image} and as an in-place (or
 * resident-to-resident) variant on an {@link Arena}. All synchronous.
 *
 * @module
 */
import { assertImage, type Image } from "../image.ts";
import { Arena, type Resident, roundTrip } from "./arena.ts";
import { type AxisWeights, axisWeights, DEFAULT_KERNEL, type Kernel } from "./filters.ts";

// ---------------------------------------------------------------------------
// gray, threshold, flip
// ---------------------------------------------------------------------------

/**
 * Gray image with OpenCV's fixed point luma
 * `Y = (R*4899 + G*9617 + B*1868 + 8192) >> 14` in R, G and B; alpha kept.
 * Returns a new image.
 */
export function grayRgba(src: Image): Image {
  return roundTrip(src, (a, r) => grayAt(a, r));
}

/** {@link grayRgba} in place on a resident image; returns it. */
export function grayAt(a: Arena, r: Resident): Resident {
  a.k.gray(r.ptr, r.ptr, r.width * r.height);
  return r;
}

/**
 * Binary threshold on the luma of {@link grayRgba} (OpenCV THRESH_BINARY):
 * R, G, B = `Y > t ? 255 : 0`; alpha kept. Returns a new image.
 */
export function thresholdRgba(src: Image, t: number): Image {
  return roundTrip(src, (a, r) => thresholdAt(a, r, t));
}

/** {@link thresholdRgba} in place on a resident image; returns it. */
export function thresholdAt(a: Arena, r: Resident, t: number): Resident {
  // Y is an integer in 0..255: Y > t  <=>  Y > floor(t); clamp keeps i32 sane
  const ti = Math.floor(Math.max(-1, Math.min(255, t)));
  a.k.threshold(r.ptr, r.ptr, r.width * r.height, Number.isNaN(ti) ? 255 : ti);
  return r;
}

/**
 * Mirrored copy: `"h"` left-right, `"v"` upside down, `"hv"` both (a 180°
 * rotation). Returns a new image.
 */
export function flipRgba(src: Image, axis: "h" | "v" | "hv"): Image {
  return roundTrip(src, (a, r) => flipAt(a, r, axis));
}

/** {@link flipRgba} of a resident image, into a new resident image. */
export function flipAt(a: Arena, r: Resident, axis: "h" | "v" | "hv"): Resident {
  if (axis !== "h" && axis !== "v" && axis !== "hv") {
    throw new RangeError(`invalid flip axis ${axis}`);
  }
  const d = a.alloc(r.width * r.height * 4);
  a.k.flip(r.ptr, d, r.width, r.height, axis === "v" ? 0 : 1, axis === "h" ? 0 : 1);
  return { width: r.width, height: r.height, ptr: d };
}

/**
 * A new `width`x`height` image with `src` copied in at (`left`, `top`);
 * parts outside are cut, and when any pixel is left uncovered every pixel
 * starts as `background` (RGBA, opaque black by default). Returns a new image.
 */
export function placeRgba(
  src: Image,
  width: number,
  height: number,
  left: number,
  top: number,
  background?: readonly [number, number, number, number],
): Image {
  checkSize(width, height);
  return roundTrip(src, (a, r) => placeAt(a, r, width, height, left, top, background));
}

/**
 * {@link placeRgba} on a resident image, into a new resident image.
 */
export function placeAt(
  a: Arena,
  r: Resident,
  width: number,
  height: number,
  left: number,
  top: number,
  background: readonly [number, number, number, number] = [0, 0, 0, 255],
): Resident {
  const d = a.alloc(width * height * 4);
  const mem = a.view();
  const x0 = Math.max(0, left), x1 = Math.min(width, left + r.width);
  const y0 = Math.max(0, top), y1 = Math.min(height, top + r.height);
  const uncovered = x0 > 0 || y0 > 0 || x1 < width || y1 < height;
  // little-endian RGBA: red is the low byte of each pixel's u32, alpha the high one
  const [red, green, blue, alpha] = background;
  const fill = (red | green << 8 | blue << 16 | alpha << 24) >>> 0;
  new Uint32Array(mem.buffer, d, width * height).fill(uncovered ? fill : 0);
  for (let y = y0; y < y1 && x1 > x0; y++) {
    const from = r.ptr + ((y - top) * r.width + (x0 - left)) * 4;
    mem.copyWithin(d + (y * width + x0) * 4, from, from + (x1 - x0) * 4);
  }
  return { width, height, ptr: d };
}

// ---------------------------------------------------------------------------
// resize
// ---------------------------------------------------------------------------

/**
 * Resizes to `width` x `height` with a separable filter, `linear` (a
 * triangle) by default: antialiased when downscaling (support grows with the
 * factor, like Pillow's BILINEAR), plain bilinear with pixel-centre
 * alignment when upscaling (like OpenCV INTER_LINEAR). The other kernels
 * follow Pillow's filters the same way (see `filters.ts`). 14-bit fixed
 * point, all four channels filtered independently. Returns a new image.
 */
export function resizeRgba(
  src: Image,
  width: number,
  height: number,
  kernel: Kernel = DEFAULT_KERNEL,
): Image {
  assertImage(src);
  checkSize(width, height);
  if (src.width === width && src.height === height) {
    return { width, height, data: src.data.slice() };
  }
  return roundTrip(src, (a, r) => resizeAt(a, r, width, height, kernel));
}

function checkSize(width: number, height: number): void {
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 ||
    height < 1
  ) {
    throw new RangeError(`invalid target size ${width}x${height}`);
  }
}

/**
 * Whether resizing `sw` x `sh` to `width` x `height` runs the horizontal pass
 * first: the cheaper order (a horizontal tap costs ~3x a vertical one per
 * pixel). Internal to `ops/kernels`.
 */
export function horizontalFirst(
  sw: number,
  sh: number,
  width: number,
  height: number,
  wx: AxisWeights,
  wy: AxisWeights,
): boolean {
  const costH = (rows: number) => 3 * rows * width * wx.taps;
  const costV = (cols: number) => height * cols * wy.taps;
  return costH(sh) + costV(width) <= costV(sw) + costH(height);
}

/**
 * Taps from which the horizontal pass goes by transposition (`resizeHT`:
 * strips of 32 rows transposed, resized by the vertical pass's kernel, which
 * computes four output pixels a vector, and transposed back) instead of
 * gathering each output pixel's taps (`resizeH`): the same bytes; 2 taps
 * (linear enlarging) gather faster.
 */
const TRANSPOSE_TAPS = 4;
/** Rows `resizeHT` transposes at a time (its STRIP; a last shorter strip is padded). */
const TRANSPOSE_STRIP = 32;
/**
 * Vertical taps from which a resize that runs the vertical pass first and the
 * horizontal pass by transposition runs the two fused (`resizeVHT`: the
 * vertical pass stores its rows transposed straight into the strips, with no
 * intermediate image). Below it (linear and nearest) the two passes stay
 * apart: that is the default kernel's speed, a change of its own.
 */
const FUSE_TAPS = 8;

/** Bytes of scratch {@link horizontalPass} needs for `sw` to `width` with `taps` taps. */
export function horizontalScratch(sw: number, width: number, taps: number): number {
  return taps < TRANSPOSE_TAPS ? 0 : (sw + width + 8) * 128;
}

/**
 * The horizontal pass over `rows` rows of `sw` pixels at `from` to `width`
 * pixels at `to`, with the resident bounds `xb` and weights `xw` of `taps`
 * taps, and scratch `tmp` of {@link horizontalScratch} bytes. Internal to
 * `ops/kernels`.
 */
export function horizontalPass(
  a: Arena,
  from: number,
  [sw, rows]: [number, number],
  to: number,
  width: number,
  [xb, xw, taps]: [number, number, number],
  tmp: number,
): void {
  // fewer rows than a strip (a streamed strip of very wide rows): gathered, not padded to a strip
  if (taps < TRANSPOSE_TAPS || rows < TRANSPOSE_STRIP) {
    a.k.resizeH(from, sw, rows, to, width, xb, xw, taps);
  } else a.k.resizeHT(from, sw, rows, to, width, xb, xw, taps, tmp);
}

/**
 * {@link resizeRgba} of a resident image, into a new resident image (the
 * same one when the size does not change).
 */
export function resizeAt(
  a: Arena,
  src: Resident,
  width: number,
  height: number,
  kernel: Kernel = DEFAULT_KERNEL,
): Resident {
  checkSize(width, height);
  const sw = src.width, sh = src.height;
  const k = a.k;
  const doH = sw !== width, doV = sh !== height;
  if (!doH && !doV) return src;
  const wx = doH ? axisWeights(sw, width, kernel) : undefined;
  const wy = doV ? axisWeights(sh, height, kernel) : undefined;
  const hFirst = !wx || !wy || horizontalFirst(sw, sh, width, height, wx, wy);
  // a vertical pass reads `taps` rows from its source: pad one shorter than that
  const vRows = (rows: number) => Math.max(rows, wy ? wy.taps : 0);
  let s = src.ptr;
  if (wy && (!wx || !hFirst) && sh < wy.taps) {
    s = a.alloc(sw * 4 * wy.taps);
    a.view().copyWithin(s, src.ptr, src.ptr + sw * sh * 4);
  }
  // intermediate size
  const mw = hFirst ? width : sw;
  const mh = hFirst ? sh : height;
  const fused = !!wx && !!wy && !hFirst && wy.taps >= FUSE_TAPS && wx.taps >= TRANSPOSE_TAPS &&
    height >= TRANSPOSE_STRIP;
  const m = doH && doV && !fused ? a.alloc(mw * 4 * (hFirst ? vRows(mh) : mh)) : 0;
  const d = a.alloc(width * height * 4);
  const xb = wx ? a.alloc(wx.bounds.byteLength) : 0;
  const xw = wx ? a.alloc(wx.weights.byteLength) : 0;
  const yb = wy ? a.alloc(wy.bounds.byteLength) : 0;
  const yw = wy ? a.alloc(wy.weights.byteLength) : 0;
  const mem = a.view();
  const put = (p: number, arr: Int32Array | Int16Array) =>
    mem.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), p);
  if (wx) put(xb, wx.bounds), put(xw, wx.weights);
  if (wy) put(yb, wy.bounds), put(yw, wy.weights);
  const tmp = wx ? a.alloc(horizontalScratch(sw, width, wx.taps)) : 0;
  const resizeH = (from: number, rows: number, to: number) =>
    horizontalPass(a, from, [sw, rows], to, width, [xb, xw, wx!.taps], tmp);
  if (fused) {
    k.resizeVHT(s, sw, yb, yw, wy!.taps, d, width, height, xb, xw, wx!.taps, tmp);
  } else if (wx && wy) {
    if (hFirst) {
      resizeH(s, sh, m);
      k.resizeV(m, width * 4, d, height, yb, yw, wy.taps);
    } else {
      k.resizeV(s, sw * 4, m, height, yb, yw, wy.taps);
      resizeH(m, height, d);
    }
  } else if (wx) {
    resizeH(s, sh, d);
  } else if (wy) {
    k.resizeV(s, sw * 4, d, height, yb, yw, wy.taps);
  }
  return { width, height, ptr: d };
}

// ---------------------------------------------------------------------------
// JPEG encoder
// ---------------------------------------------------------------------------

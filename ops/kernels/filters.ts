/**
 * Resampling filters (`--kernel`) and the fixed point weights of one resize
 * axis, computed once per (source size, output size, kernel) as Pillow's
 * `precompute_coeffs` does: support scaled by the downscale factor, pixel
 * centres aligned, weights renormalised where the window meets a border.
 * The SIMD passes that apply them are `resizeH`/`resizeV` in
 * `assembly/kernels.ts`. (The npm resizer @jsquash/resize, the Rust `resize`
 * crate in WASM, took 35 ms for a 500x375 → 512x512 lanczos3 against these
 * passes' 1.9 ms, and 259 ms against 26 ms for 1920x1200 → 1024x640, min of 15
 * on the shared machine at load 12; it is also asynchronous, which the fused
 * JPEG path is not.)
 *
 * @module
 */

/** A resampling filter for resize steps (`--kernel`). */
export type Kernel = "nearest" | "linear" | "cubic" | "mitchell" | "lanczos3";

/** Every kernel, in the order help texts list them. */
export const KERNELS: readonly Kernel[] = ["nearest", "linear", "cubic", "mitchell", "lanczos3"];

/** The kernel a resize step uses when it names none (zpix's filter before `--kernel`). */
export const DEFAULT_KERNEL: Kernel = "linear";

/** True for the name of a {@link Kernel}. */
export function isKernel(name: unknown): name is Kernel {
  return typeof name === "string" && (KERNELS as readonly string[]).includes(name);
}

/** A continuous filter: its value at distance `x` (in source pixels at 1:1) and its half-width. */
interface Filter {
  support: number;
  at: (x: number) => number;
}

const sinc = (x: number) => x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);

// Mitchell-Netravali with B = C = 1/3 (ImageMagick's and libvips' "mitchell").
function mitchell(x: number): number {
  const b = 1 / 3, c = 1 / 3;
  x = Math.abs(x);
  if (x < 1) {
    return ((12 - 9 * b - 6 * c) * x ** 3 + (-18 + 12 * b + 6 * c) * x ** 2 + (6 - 2 * b)) / 6;
  }
  if (x < 2) {
    return ((-b - 6 * c) * x ** 3 + (6 * b + 30 * c) * x ** 2 + (-12 * b - 48 * c) * x +
      (8 * b + 24 * c)) / 6;
  }
  return 0;
}

// Keys' cubic with a = -0.5, Pillow's BICUBIC.
function cubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

const FILTERS: Record<Exclude<Kernel, "nearest">, Filter> = {
  linear: { support: 1, at: (x) => Math.max(0, 1 - Math.abs(x)) },
  cubic: { support: 2, at: cubic },
  mitchell: { support: 2, at: mitchell },
  lanczos3: { support: 3, at: (x) => -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0 },
};

/** Fixed point weights of one resize axis. */
export interface AxisWeights {
  /** Taps per output sample (even, zero padded). */
  taps: number;
  /** First source index of each output sample. */
  bounds: Int32Array;
  /** `taps` 14-bit weights per output sample, each row summing to 16384. */
  weights: Int16Array;
}

const WEIGHT_BITS = 14;
/**
 * Weights by `src:dst:kernel`, least recently used first, up to
 * {@link CACHE_BYTES} in all. A run over photos of many sizes needs one
 * entry per distinct height (the 300 Flickr photos: 81 heights, 4 widths),
 * ~4 KiB each at 512 wide: a cache of 64 entries emptied when full rebuilt
 * them for nearly every image (1.7 % of a sequential run's CPU).
 */
const weightCache = new Map<string, AxisWeights>();
const CACHE_BYTES = 8 << 20;
let cachedBytes = 0;
const bytesOf = (w: AxisWeights) => w.bounds.byteLength + w.weights.byteLength;

/** One output sample's source window: its first index and its real weights (summing to 1). */
function window(src: number, scale: number, i: number, filter: Filter): [number, number[]] {
  const fscale = Math.max(scale, 1);
  const support = filter.support * fscale;
  const center = (i + 0.5) * scale;
  let lo = Math.max(Math.trunc(center - support + 0.5), 0);
  const hi = Math.min(Math.trunc(center + support + 0.5), src);
  let ws: number[] = [];
  let total = 0;
  for (let x = lo; x < hi; x++) {
    const w = filter.at((x - center + 0.5) / fscale);
    ws.push(w);
    total += w;
  }
  // trim zero weights at both ends
  let a = 0, b = ws.length;
  while (a < b && ws[a] === 0) a++;
  while (b > a && ws[b - 1] === 0) b--;
  if (a === b || total === 0) { // no weight at all: take the nearest sample
    return [Math.min(Math.max(Math.floor(center), 0), src - 1), [1]];
  }
  ws = ws.slice(a, b);
  lo += a;
  return [lo, ws.map((w) => w / total)];
}

/**
 * The weights for resampling `src` samples to `dst` with `kernel`, cached
 * per (src, dst, kernel). `nearest` takes the sample under each output
 * centre, as Pillow's NEAREST does; the others are Pillow's
 * `precompute_coeffs` (mitchell: B = C = 1/3, which Pillow lacks).
 */
export function axisWeights(
  src: number,
  dst: number,
  kernel: Kernel = DEFAULT_KERNEL,
): AxisWeights {
  if (!isKernel(kernel)) {
    throw new RangeError(`unknown resize kernel "${kernel}": use ${KERNELS.join(", ")}`);
  }
  const key = `${src}:${dst}:${kernel}`;
  const hit = weightCache.get(key);
  if (hit) {
    weightCache.delete(key);
    weightCache.set(key, hit);
    return hit;
  }
  const scale = src / dst;
  const starts: number[] = [];
  const rows: number[][] = [];
  let maxN = 1;
  // nearest: Pillow's affine transform adds the step to a double, so its
  // rounding decides ties such as 1.0 (taken as 0.99999...) the same way
  let at = scale * 0.5;
  for (let i = 0; i < dst; i++, at += scale) {
    const [lo, ws] = kernel === "nearest"
      ? [Math.min(Math.trunc(at), src - 1), [1]]
      : window(src, scale, i, FILTERS[kernel]);
    const fixed = ws.map((w) => Math.round(w * (1 << WEIGHT_BITS)));
    let sum = 0, big = 0;
    for (let j = 0; j < fixed.length; j++) {
      sum += fixed[j];
      if (fixed[j] > fixed[big]) big = j;
    }
    fixed[big] += (1 << WEIGHT_BITS) - sum;
    starts.push(lo);
    rows.push(fixed);
    maxN = Math.max(maxN, fixed.length);
  }
  const taps = (maxN + 1) & ~1;
  const bounds = new Int32Array(dst);
  const weights = new Int16Array(dst * taps);
  for (let i = 0; i < dst; i++) {
    // shift the window left at the right border so reads stay in the row
    const start = Math.max(0, Math.min(starts[i], src - taps));
    bounds[i] = start;
    weights.set(rows[i], i * taps + (starts[i] - start));
  }
  const out = { taps, bounds, weights };
  weightCache.set(key, out);
  cachedBytes += bytesOf(out);
  for (const [old, w] of weightCache) {
    if (cachedBytes <= CACHE_BYTES || w === out) break;
    weightCache.delete(old);
    cachedBytes -= bytesOf(w);
  }
  return out;
}

// deno-fmt-ignore-file
// deno-lint-ignore-file
// @ts-nocheck -- AssemblyScript, compiled by ops/kernels/build.ts, not part of the Deno module graph.
//
// zpix image kernels in AssemblyScript with WebAssembly SIMD (v128).
//
// Every function works on raw pointers into the module's linear memory; the
// TypeScript side (ops/kernels/arena.ts) owns the memory layout: it bump
// allocates buffers from heapBase() upwards, grows the memory as needed, and
// always leaves at least 64 bytes of slack after every buffer so that vector
// loads and stores may run a little past the end of a row or image.

/** First free byte after the static data; the wrapper allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------
// Luma, threshold, flips
// ---------------------------------------------------------------------------

// (R*wr + G*wg + B*wb + round) >> shift for 4 RGBA pixels (one per i32 lane).
@inline
function weightedRgb(v: v128, wr: i32, wg: i32, wb: i32, round: i32, shift: i32): v128 {
  const ff = i32x4.splat(0xff);
  const r = v128.and(v, ff);
  const g = v128.and(i32x4.shr_u(v, 8), ff);
  const b = v128.and(i32x4.shr_u(v, 16), ff);
  let y = i32x4.add(i32x4.mul(r, i32x4.splat(wr)), i32x4.mul(g, i32x4.splat(wg)));
  y = i32x4.add(y, i32x4.add(i32x4.mul(b, i32x4.splat(wb)), i32x4.splat(round)));
  return i32x4.shr_u(y, shift);
}

// OpenCV's fixed point BT.601 luma: Y = (R*4899 + G*9617 + B*1868 + 8192) >> 14.
function lumaVec(v: v128): v128 {
  return weightedRgb(v, 4899, 9617, 1868, 8192, 14);
}

function lumaScalar(p: u32): u32 {
  return ((p & 0xff) * 4899 + ((p >> 8) & 0xff) * 9617 + ((p >> 16) & 0xff) * 1868 + 8192) >> 14;
}

/** Writes Y to R, G and B of `n` RGBA pixels, keeping alpha. `dst` may equal `src`. */
export function gray(src: usize, dst: usize, n: i32): void {
  const amask = i32x4.splat(0xff000000);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    const y = lumaVec(v);
    const out = v128.or(v128.or(y, i32x4.shl(y, 8)), v128.or(i32x4.shl(y, 16), v128.and(v, amask)));
    v128.store(dst + (<usize>i << 2), out);
  }
  for (; i < n; i++) {
    const p = load<u32>(src + (<usize>i << 2));
    const y = lumaScalar(p);
    store<u32>(dst + (<usize>i << 2), (p & 0xff000000) | (y * 0x010101));
  }
}

/** R, G, B = (Y > t ? 255 : 0) for `n` RGBA pixels, keeping alpha. `dst` may equal `src`. */
export function threshold(src: usize, dst: usize, n: i32, t: i32): void {
  const amask = i32x4.splat(0xff000000);
  const rgb = i32x4.splat(0x00ffffff);
  const tv = i32x4.splat(t);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    const m = i32x4.gt_s(lumaVec(v), tv);
    v128.store(dst + (<usize>i << 2), v128.or(v128.and(m, rgb), v128.and(v, amask)));
  }
  for (; i < n; i++) {
    const p = load<u32>(src + (<usize>i << 2));
    const y = <i32>lumaScalar(p);
    store<u32>(dst + (<usize>i << 2), (p & 0xff000000) | (y > t ? 0xffffff : 0));
  }
}

/** Copies a w x h RGBA image from `src` to `dst` (distinct), mirrored as asked. */
export function flip(src: usize, dst: usize, w: i32, h: i32, horizontal: i32, vertical: i32): void {
  const rowBytes = <usize>w << 2;
  for (let y = 0; y < h; y++) {
    const sy = vertical ? h - 1 - y : y;
    const s = src + <usize>sy * rowBytes;
    const d = dst + <usize>y * rowBytes;
    if (!horizontal) {
      memory.copy(d, s, rowBytes);
      continue;
    }
    let x = 0;
    for (; x + 4 <= w; x += 4) {
      const v = v128.load(s + (<usize>(w - x - 4) << 2));
      v128.store(d + (<usize>x << 2), i8x16.shuffle(v, v, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
    }
    for (; x < w; x++) {
      store<u32>(d + (<usize>x << 2), load<u32>(s + (<usize>(w - 1 - x) << 2)));
    }
  }
}

// ---------------------------------------------------------------------------
// Separable resize, 14-bit fixed point weights (sum 16384 per output sample)
// ---------------------------------------------------------------------------

/**
 * Horizontal pass over `rows` rows: dst[x] = sum_k w[x][k] * src[xmin[x] + k].
 * `bounds` holds one i32 xmin per output pixel, `weights` holds `taps` i16
 * per output pixel (taps even, zero padded). Reads up to 4 bytes past a row.
 */
export function resizeH(src: usize, srcW: i32, rows: i32, dst: usize, dstW: i32, bounds: usize, weights: usize, taps: i32): void {
  const srcRow = <usize>srcW << 2;
  const dstRow = <usize>dstW << 2;
  if (taps == 2) {
    resizeH2(src, srcRow, rows, dst, dstW, dstRow, bounds, weights);
    return;
  }
  const wstep = <usize>taps << 1;
  for (let y = 0; y < rows; y++) {
    const s = src + <usize>y * srcRow;
    const d = dst + <usize>y * dstRow;
    let wp = weights;
    let x = 0;
    // four output pixels per store
    for (; x + 4 <= dstW; x += 4) {
      const b = bounds + (<usize>x << 2);
      const a0 = hTaps(s + (<usize>load<i32>(b) << 2), wp, taps);
      const a1 = hTaps(s + (<usize>load<i32>(b, 4) << 2), wp + wstep, taps);
      const a2 = hTaps(s + (<usize>load<i32>(b, 8) << 2), wp + 2 * wstep, taps);
      const a3 = hTaps(s + (<usize>load<i32>(b, 12) << 2), wp + 3 * wstep, taps);
      const lo = i16x8.narrow_i32x4_s(i32x4.shr_s(a0, 14), i32x4.shr_s(a1, 14));
      const hi = i16x8.narrow_i32x4_s(i32x4.shr_s(a2, 14), i32x4.shr_s(a3, 14));
      v128.store(d + (<usize>x << 2), i8x16.narrow_i16x8_u(lo, hi));
      wp += 4 * wstep;
    }
    for (; x < dstW; x++) {
      const r = i32x4.shr_s(hTaps(s + (<usize>load<i32>(bounds + (<usize>x << 2)) << 2), wp, taps), 14);
      const n16 = i16x8.narrow_i32x4_s(r, r);
      v128.store32_lane(d + (<usize>x << 2), i8x16.narrow_i16x8_u(n16, n16), 0);
      wp += wstep;
    }
  }
}

// resizeH with 2 taps (linear, nearest, and bilinear-like upscales): four output
// pixels per step, their two source pixels gathered two outputs to a vector
// and their four weight pairs read as one vector.
@inline
function resizeH2(src: usize, srcRow: usize, rows: i32, dst: usize, dstW: i32, dstRow: usize, bounds: usize, weights: usize): void {
  const bias = i32x4.splat(1 << 13);
  for (let y = 0; y < rows; y++) {
    const s = src + <usize>y * srcRow;
    const d = dst + <usize>y * dstRow;
    let x = 0;
    for (; x + 4 <= dstW; x += 4) {
      const b = bounds + (<usize>x << 2);
      const w = v128.load(weights + (<usize>x << 2));
      const p01 = v128.load64_lane(s + (<usize>load<i32>(b, 4) << 2), v128.load64_zero(s + (<usize>load<i32>(b) << 2)), 1);
      const p23 = v128.load64_lane(s + (<usize>load<i32>(b, 12) << 2), v128.load64_zero(s + (<usize>load<i32>(b, 8) << 2)), 1);
      const a0 = i32x4.add(bias, i32x4.dot_i16x8_s(i8x16.swizzle(p01, i8x16(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1)), i8x16.shuffle(w, w, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)));
      const a1 = i32x4.add(bias, i32x4.dot_i16x8_s(i8x16.swizzle(p01, i8x16(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1)), i8x16.shuffle(w, w, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7)));
      const a2 = i32x4.add(bias, i32x4.dot_i16x8_s(i8x16.swizzle(p23, i8x16(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1)), i8x16.shuffle(w, w, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11)));
      const a3 = i32x4.add(bias, i32x4.dot_i16x8_s(i8x16.swizzle(p23, i8x16(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1)), i8x16.shuffle(w, w, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15)));
      const lo = i16x8.narrow_i32x4_s(i32x4.shr_s(a0, 14), i32x4.shr_s(a1, 14));
      const hi = i16x8.narrow_i32x4_s(i32x4.shr_s(a2, 14), i32x4.shr_s(a3, 14));
      v128.store(d + (<usize>x << 2), i8x16.narrow_i16x8_u(lo, hi));
    }
    for (; x < dstW; x++) {
      const r = i32x4.shr_s(hTaps(s + (<usize>load<i32>(bounds + (<usize>x << 2)) << 2), weights + (<usize>x << 2), 2), 14);
      const n16 = i16x8.narrow_i32x4_s(r, r);
      v128.store32_lane(d + (<usize>x << 2), i8x16.narrow_i16x8_u(n16, n16), 0);
    }
  }
}

@inline
function hTaps6(p: usize, wp: usize): v128 {
  const px = v128.load(p);
  const w = v128.load(wp);
  const a = i8x16.swizzle(px, i8x16(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1));
  const b = i8x16.swizzle(px, i8x16(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1));
  const c = i8x16.swizzle(v128.load64_zero(p, 16), i8x16(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1));
  let acc = i32x4.add(i32x4.splat(1 << 13), i32x4.dot_i16x8_s(a, i8x16.shuffle(w, w, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(b, i8x16.shuffle(w, w, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(c, i8x16.shuffle(w, w, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11)));
}

// One output pixel of the horizontal pass: `taps` (even) RGBA pixels from `p`
// weighted by the i16 weights at `wp`, plus the rounding bias, as i32x4 (r, g, b, a).
@inline
function hTaps(p: usize, wp: usize, taps: i32): v128 {
  if (taps == 6) return hTaps6(p, wp);
  let acc = i32x4.splat(1 << 13);
  let k = 0;
  for (; k + 4 <= taps; k += 4) {
    const px = v128.load(p);
    // r0 r1 g0 g1 b0 b1 a0 a1 as u16, weights w0 w1 repeated
    const a = i8x16.swizzle(px, i8x16(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1));
    const b = i8x16.swizzle(px, i8x16(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1));
    acc = i32x4.add(acc, i32x4.dot_i16x8_s(a, v128.load32_splat(wp)));
    acc = i32x4.add(acc, i32x4.dot_i16x8_s(b, v128.load32_splat(wp, 4)));
    p += 16;
    wp += 8;
  }
  if (k < taps) {
    const px = v128.load64_zero(p);
    const a = i8x16.swizzle(px, i8x16(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1));
    acc = i32x4.add(acc, i32x4.dot_i16x8_s(a, v128.load32_splat(wp)));
  }
  return acc;
}

// Bytes 0-7 (`lo`) or 8-15 of rows `ra` and `rb` interleaved: one tap pair of
// a 16-byte column of the vertical pass.
@inline
function vLo(ra: v128, rb: v128): v128 {
  return i8x16.shuffle(ra, rb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

@inline
function vHi(ra: v128, rb: v128): v128 {
  return i8x16.shuffle(ra, rb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

// `acc` plus the products of the low or high half of interleaved bytes `v` with a weight pair `w`.
@inline
function vAdd(acc: v128, v: v128, w: v128, high: bool): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(high ? i16x8.extend_high_i8x16_u(v) : i16x8.extend_low_i8x16_u(v), w));
}

// Four i32x4 sums rounded to a 16-byte column.
@inline
function vNarrow(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const lo = i16x8.narrow_i32x4_s(i32x4.shr_s(a0, 14), i32x4.shr_s(a1, 14));
  return i8x16.narrow_i16x8_u(lo, i16x8.narrow_i32x4_s(i32x4.shr_s(a2, 14), i32x4.shr_s(a3, 14)));
}

// Taps from which the vertical pass computes two output rows at once
// (resizeV2). Not for 6 taps: their weights stay in registers (paired, 0.30 →
// 0.31 ms for 375 → 512 rows). Linear's 4 taps would gain too (1200 → 640 rows
// of 7,680 bytes: 1.72 → 1.51 ms, the same bytes) but are left one row at a
// time for now: that is the default kernel's speed, a change of its own.
const V2_TAPS = 8;

// Two neighbouring output rows of the vertical pass (rows `d` and `d + stride`),
// whose windows of `taps` rows start at `s0` and `skip` (even)
// rows further: each tap pair of rows the two share is loaded, interleaved and
// widened once for both. Same sums, same bytes as the rows one after the other.
// With `line` (not 0) the two rows are stored transposed instead: pixel x of
// each at `d + x * line`, the second's 4 bytes after the first's (see vStore).
@inline
function resizeV2(s0: usize, stride: usize, d: usize, wrow: usize, taps: i32, skip: i32, line: usize): void {
  const bias = i32x4.splat(1 << 13);
  const pairs = taps >> 1, first = skip >> 1, all = first + pairs;
  const w1row = wrow + (<usize>taps << 1) - (<usize>first << 2);
  const d1 = d + stride;
  // the last column first: the 15 bytes it may write past row `d` are then
  // written again by the next row's first column
  const last = (stride - 1) & ~15;
  for (let x = last, n: usize = 0; n < stride; n += 16, x = n - 16) {
    let a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    let c0 = bias, c1 = bias, c2 = bias, c3 = bias;
    let s = s0 + x;
    let j = 0;
    for (; j < first; j++) {
      const ra = v128.load(s), rb = v128.load(s + stride), lo = vLo(ra, rb), hi = vHi(ra, rb);
      const w = v128.load32_splat(wrow + (<usize>j << 2));
      a0 = vAdd(a0, lo, w, false), a1 = vAdd(a1, lo, w, true), a2 = vAdd(a2, hi, w, false), a3 = vAdd(a3, hi, w, true);
      s += stride << 1;
    }
    for (; j < pairs; j++) {
      const ra = v128.load(s), rb = v128.load(s + stride), lo = vLo(ra, rb), hi = vHi(ra, rb);
      const w = v128.load32_splat(wrow + (<usize>j << 2)), v = v128.load32_splat(w1row + (<usize>j << 2));
      let e = i16x8.extend_low_i8x16_u(lo);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(e, w)), c0 = i32x4.add(c0, i32x4.dot_i16x8_s(e, v));
      e = i16x8.extend_high_i8x16_u(lo);
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(e, w)), c1 = i32x4.add(c1, i32x4.dot_i16x8_s(e, v));
      e = i16x8.extend_low_i8x16_u(hi);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(e, w)), c2 = i32x4.add(c2, i32x4.dot_i16x8_s(e, v));
      e = i16x8.extend_high_i8x16_u(hi);
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(e, w)), c3 = i32x4.add(c3, i32x4.dot_i16x8_s(e, v));
      s += stride << 1;
    }
    for (; j < all; j++) {
      const ra = v128.load(s), rb = v128.load(s + stride), lo = vLo(ra, rb), hi = vHi(ra, rb);
      const v = v128.load32_splat(w1row + (<usize>j << 2));
      c0 = vAdd(c0, lo, v, false), c1 = vAdd(c1, lo, v, true), c2 = vAdd(c2, hi, v, false), c3 = vAdd(c3, hi, v, true);
      s += stride << 1;
    }
    const top = vNarrow(a0, a1, a2, a3), bottom = vNarrow(c0, c1, c2, c3);
    if (line == 0) {
      v128.store(d + x, top);
      v128.store(d1 + x, bottom);
    } else {
      // the four pixels of each row to four rows of `line` bytes, two pixels (8 bytes) each
      const t = d + (x >> 2) * line;
      const p01 = i8x16.shuffle(top, bottom, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
      const p23 = i8x16.shuffle(top, bottom, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
      v128.store64_lane(t, p01, 0);
      v128.store64_lane(t + line, p01, 1);
      v128.store64_lane(t + 2 * line, p23, 0);
      v128.store64_lane(t + 3 * line, p23, 1);
    }
  }
}

// Four pixels `v` of an output row of the vertical pass at `d + x`, or with
// `line` (not 0) transposed: pixel i at `d + (x / 4 + i) * line`.
@inline
function vStore(d: usize, x: usize, line: usize, v: v128): void {
  if (line == 0) {
    v128.store(d + x, v);
    return;
  }
  const t = d + (x >> 2) * line;
  v128.store32_lane(t, v, 0);
  v128.store32_lane(t + line, v, 1);
  v128.store32_lane(t + 2 * line, v, 2);
  v128.store32_lane(t + 3 * line, v, 3);
}

// One output row of the vertical pass (stored as vStore does).
@inline
function resizeV1(s0: usize, stride: usize, d: usize, wrow: usize, taps: i32, line: usize): void {
  const bias = i32x4.splat(1 << 13);
  if (taps == 6) {
    // lanczos3 enlarging (and the horizontal pass by transposition): the
    // weights in registers and the taps unrolled, 0.39 → 0.31 ms for 512x375 → 512x512
    const w0 = v128.load32_splat(wrow), w1 = v128.load32_splat(wrow, 4), w2 = v128.load32_splat(wrow, 8);
    for (let x: usize = 0; x < stride; x += 16) {
      const s = s0 + x;
      let ra = v128.load(s), rb = v128.load(s + stride), lo = vLo(ra, rb), hi = vHi(ra, rb);
      let a0 = vAdd(bias, lo, w0, false), a1 = vAdd(bias, lo, w0, true), a2 = vAdd(bias, hi, w0, false), a3 = vAdd(bias, hi, w0, true);
      ra = v128.load(s + 2 * stride), rb = v128.load(s + 3 * stride), lo = vLo(ra, rb), hi = vHi(ra, rb);
      a0 = vAdd(a0, lo, w1, false), a1 = vAdd(a1, lo, w1, true), a2 = vAdd(a2, hi, w1, false), a3 = vAdd(a3, hi, w1, true);
      ra = v128.load(s + 4 * stride), rb = v128.load(s + 5 * stride), lo = vLo(ra, rb), hi = vHi(ra, rb);
      a0 = vAdd(a0, lo, w2, false), a1 = vAdd(a1, lo, w2, true), a2 = vAdd(a2, hi, w2, false), a3 = vAdd(a3, hi, w2, true);
      vStore(d, x, line, vNarrow(a0, a1, a2, a3));
    }
    return;
  }
  for (let x: usize = 0; x < stride; x += 16) {
    let a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    let s = s0 + x;
    let wp = wrow;
    for (let k = 0; k < taps; k += 2) {
      const ra = v128.load(s), rb = v128.load(s + stride), lo = vLo(ra, rb), hi = vHi(ra, rb);
      const w = v128.load32_splat(wp);
      a0 = vAdd(a0, lo, w, false), a1 = vAdd(a1, lo, w, true), a2 = vAdd(a2, hi, w, false), a3 = vAdd(a3, hi, w, true);
      s += stride << 1;
      wp += 4;
    }
    vStore(d, x, line, vNarrow(a0, a1, a2, a3));
  }
}

/**
 * Vertical pass: row y of dst = sum_k w[y][k] * row (ymin[y] + k) of src, over
 * `rowBytes` bytes per row. `taps` even, zero padded. Writes up to 15 bytes
 * past the last row.
 */
export function resizeV(src: usize, rowBytes: i32, dst: usize, dstH: i32, bounds: usize, weights: usize, taps: i32): void {
  const stride = <usize>rowBytes;
  for (let y = 0; y < dstH; y++) {
    const b0 = load<i32>(bounds + (<usize>y << 2));
    const s0 = src + <usize>b0 * stride;
    const d = dst + <usize>y * stride;
    const wrow = weights + <usize>(y * taps) * 2;
    if (taps >= V2_TAPS && y + 1 < dstH) {
      const skip = load<i32>(bounds + (<usize>y << 2), 4) - b0;
      if (skip >= 0 && skip < taps && (skip & 1) == 0) {
        resizeV2(s0, stride, d, wrow, taps, skip, 0);
        y++;
        continue;
      }
    }
    resizeV1(s0, stride, d, wrow, taps, 0);
  }
}

// ---------------------------------------------------------------------------
// Horizontal pass by transposition: strips of STRIP rows are transposed (each
// source column becomes a row of STRIP pixels), resized by the vertical pass
// (its columns of 16 bytes are four output pixels at once, where the
// horizontal pass gathers each output pixel's taps), and transposed back.
// Same sums, same rounding: the same bytes as resizeH.
// ---------------------------------------------------------------------------

const STRIP = 32;

// A 4x4 transpose of RGBA pixels: four pixels from each of `s0`..`s3` to
// four pixels at each of `d0`..`d3` (d0 gets pixel 0 of each source, ...).
@inline
function transposePixels4(s0: usize, s1: usize, s2: usize, s3: usize, d0: usize, d1: usize, d2: usize, d3: usize): void {
  const r0 = v128.load(s0), r1 = v128.load(s1), r2 = v128.load(s2), r3 = v128.load(s3);
  const t0 = i8x16.shuffle(r0, r1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const t1 = i8x16.shuffle(r2, r3, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const t2 = i8x16.shuffle(r0, r1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  const t3 = i8x16.shuffle(r2, r3, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  v128.store(d0, i8x16.shuffle(t0, t1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
  v128.store(d1, i8x16.shuffle(t0, t1, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  v128.store(d2, i8x16.shuffle(t2, t3, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
  v128.store(d3, i8x16.shuffle(t2, t3, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
}

/**
 * resizeH by transposition, for kernels with many taps: same arguments and
 * same output, plus `tmp`, scratch of (srcW + dstW + 8) * 4 * 32 bytes.
 */
export function resizeHT(src: usize, srcW: i32, rows: i32, dst: usize, dstW: i32, bounds: usize, weights: usize, taps: i32, tmp: usize): void {
  const srcRow = <usize>srcW << 2;
  const line = <usize>STRIP << 2;
  const mid = tmp + <usize>((srcW + 4) & ~3) * line;
  for (let y = 0; y < rows; y += STRIP) {
    // in: source column x becomes row x of `tmp` (rows past the last repeat it)
    for (let r = 0; r < STRIP; r += 4) {
      const s0 = src + <usize>min(y + r, rows - 1) * srcRow, s1 = src + <usize>min(y + r + 1, rows - 1) * srcRow;
      const s2 = src + <usize>min(y + r + 2, rows - 1) * srcRow, s3 = src + <usize>min(y + r + 3, rows - 1) * srcRow;
      for (let x = 0; x < srcW; x += 4) {
        const t = tmp + <usize>x * line + (<usize>r << 2), at = <usize>x << 2;
        transposePixels4(s0 + at, s1 + at, s2 + at, s3 + at, t, t + line, t + 2 * line, t + 3 * line);
      }
    }
    resizeV(tmp, STRIP << 2, mid, dstW, bounds, weights, taps);
    transposeOut(mid, dst, y, rows, dstW);
  }
}

// The end of a strip of the transposed horizontal pass: row x of `mid` (STRIP
// pixels) becomes column x of output rows `y`.. of `dst` (rows past the last
// repeat it: stored again, the same bytes).
@inline
function transposeOut(mid: usize, dst: usize, y: i32, rows: i32, dstW: i32): void {
  const dstRow = <usize>dstW << 2;
  const line = <usize>STRIP << 2;
  for (let r = 0; r < STRIP; r += 4) {
    const d0 = dst + <usize>min(y + r, rows - 1) * dstRow, d1 = dst + <usize>min(y + r + 1, rows - 1) * dstRow;
    const d2 = dst + <usize>min(y + r + 2, rows - 1) * dstRow, d3 = dst + <usize>min(y + r + 3, rows - 1) * dstRow;
    let x = 0;
    for (; x + 4 <= dstW; x += 4) {
      const m = mid + <usize>x * line + (<usize>r << 2), at = <usize>x << 2;
      transposePixels4(m, m + line, m + 2 * line, m + 3 * line, d0 + at, d1 + at, d2 + at, d3 + at);
    }
    for (; x < dstW; x++) {
      const m = mid + <usize>x * line + (<usize>r << 2);
      store<u32>(d0 + (<usize>x << 2), load<u32>(m));
      store<u32>(d1 + (<usize>x << 2), load<u32>(m, 4));
      store<u32>(d2 + (<usize>x << 2), load<u32>(m, 8));
      store<u32>(d3 + (<usize>x << 2), load<u32>(m, 12));
    }
  }
}

/**
 * resizeV then resizeHT, fused: `src` (srcW pixels a row) to `dstH` rows
 * (`vBounds`, `vWeights`, `vTaps`) of `dstW` pixels (`hBounds`, `hWeights`,
 * `hTaps`) at `dst`, with `tmp` as resizeHT's. Each strip of STRIP rows of the
 * vertical pass is stored transposed straight into the strip resizeHT
 * resizes, never as rows (no intermediate image, no transposing it in). The
 * bytes of the two passes one after the other.
 */
export function resizeVHT(src: usize, srcW: i32, vBounds: usize, vWeights: usize, vTaps: i32, dst: usize, dstW: i32, dstH: i32, hBounds: usize, hWeights: usize, hTaps: i32, tmp: usize): void {
  const stride = <usize>srcW << 2;
  const line = <usize>STRIP << 2;
  const mid = tmp + <usize>((srcW + 4) & ~3) * line;
  for (let y = 0; y < dstH; y += STRIP) {
    for (let r = 0; r < STRIP; r++) {
      const row = min(y + r, dstH - 1);
      const b0 = load<i32>(vBounds + (<usize>row << 2));
      const s0 = src + <usize>b0 * stride;
      const t = tmp + (<usize>r << 2);
      const wrow = vWeights + <usize>(row * vTaps) * 2;
      if (vTaps >= V2_TAPS && r + 1 < STRIP && row + 1 < dstH) {
        const skip = load<i32>(vBounds + (<usize>row << 2), 4) - b0;
        if (skip >= 0 && skip < vTaps && (skip & 1) == 0) {
          resizeV2(s0, stride, t, wrow, vTaps, skip, line);
          r++;
          continue;
        }
      }
      resizeV1(s0, stride, t, wrow, vTaps, line);
    }
    resizeV(tmp, STRIP << 2, mid, dstW, hBounds, hWeights, hTaps);
    transposeOut(mid, dst, y, dstH, dstW);
  }
}

// ---------------------------------------------------------------------------
// Baseline JPEG encoder: YCbCr 4:2:0, float AAN DCT, Huffman coding
// ---------------------------------------------------------------------------

// ZIGZAG_T, the natural (row-major) index of the k-th coefficient in zigzag
// order, but transposed (col * 8 + row), because the DCT below leaves its output
// transposed; `zigzag` applies it (its swizzle masks are generated from it):
//   0, 8, 1, 2, 9, 16, 24, 17, 10, 3, 4, 11, 18, 25, 32, 40,
//   33, 26, 19, 12, 5, 6, 13, 20, 27, 34, 41, 48, 56, 49, 42, 35,
//   28, 21, 14, 7, 15, 22, 29, 36, 43, 50, 57, 58, 51, 44, 37, 30,
//   23, 31, 38, 45, 52, 59, 60, 53, 46, 39, 47, 54, 61, 62, 55, 63

// 8x8 f32 working blocks, row-major (row r at byte r * 32): after the DCT's first pass, and its second.
const BLOCK = memory.data(256, 16);
const BLOCK2 = memory.data(256, 16);
// 64 quantized i16 in transposed natural order.
const QBLOCK = memory.data(128, 16);

function lumaY(r: i32, g: i32, b: i32): u8 {
  return <u8>((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
}

// Chroma of a 2x2 box from the sums of its R, G and B (each 0..1020).
function chromaCb(r: i32, g: i32, b: i32): u8 {
  return <u8>((-11059 * r - 21709 * g + 32768 * b + (128 << 18) + (1 << 17) - 1) >> 18);
}

function chromaCr(r: i32, g: i32, b: i32): u8 {
  return <u8>((32768 * r - 27439 * g - 5329 * b + (128 << 18) + (1 << 17) - 1) >> 18);
}

/**
 * Converts RGBA (w x h) into a Y plane (pw x ph) and 2x2 box-averaged Cb, Cr
 * planes (pw/2 x ph/2); pw and ph are multiples of 16, the padding replicates
 * the last column and row.
 */
export function jpegColor(rgba: usize, w: i32, h: i32, yp: usize, cbp: usize, crp: usize, pw: i32, ph: i32): void {
  const cw = pw >> 1;
  const rowBytes = <usize>w << 2;
  const ff = i32x4.splat(0xff);
  for (let cy = 0; cy < ph >> 1; cy++) {
    const r0 = min(cy << 1, h - 1);
    const r1 = min((cy << 1) + 1, h - 1);
    const p0 = rgba + <usize>r0 * rowBytes;
    const p1 = rgba + <usize>r1 * rowBytes;
    const y0 = yp + <usize>(cy << 1) * <usize>pw;
    const y1 = y0 + <usize>pw;
    const cb = cbp + <usize>cy * <usize>cw;
    const cr = crp + <usize>cy * <usize>cw;
    let x = 0;
    for (; x + 8 <= w; x += 8) {
      const o = <usize>x << 2;
      const a0 = v128.load(p0 + o), b0 = v128.load(p0 + o + 16);
      const a1 = v128.load(p1 + o), b1 = v128.load(p1 + o + 16);
      // luma of both rows
      const la0 = lumaJ(a0), lb0 = lumaJ(b0), la1 = lumaJ(a1), lb1 = lumaJ(b1);
      const n0 = i16x8.narrow_i32x4_s(la0, lb0);
      const n1 = i16x8.narrow_i32x4_s(la1, lb1);
      v128.store64_lane(y0 + x, i8x16.narrow_i16x8_u(n0, n0), 0);
      v128.store64_lane(y1 + x, i8x16.narrow_i16x8_u(n1, n1), 0);
      // per-channel vertical sums, then horizontal pair sums
      const ra = i32x4.add(v128.and(a0, ff), v128.and(a1, ff));
      const rb = i32x4.add(v128.and(b0, ff), v128.and(b1, ff));
      const ga = i32x4.add(v128.and(i32x4.shr_u(a0, 8), ff), v128.and(i32x4.shr_u(a1, 8), ff));
      const gb = i32x4.add(v128.and(i32x4.shr_u(b0, 8), ff), v128.and(i32x4.shr_u(b1, 8), ff));
      const ba = i32x4.add(v128.and(i32x4.shr_u(a0, 16), ff), v128.and(i32x4.shr_u(a1, 16), ff));
      const bb = i32x4.add(v128.and(i32x4.shr_u(b0, 16), ff), v128.and(i32x4.shr_u(b1, 16), ff));
      const R = i32x4.add(v128.shuffle<i32>(ra, rb, 0, 2, 4, 6), v128.shuffle<i32>(ra, rb, 1, 3, 5, 7));
      const G = i32x4.add(v128.shuffle<i32>(ga, gb, 0, 2, 4, 6), v128.shuffle<i32>(ga, gb, 1, 3, 5, 7));
      const B = i32x4.add(v128.shuffle<i32>(ba, bb, 0, 2, 4, 6), v128.shuffle<i32>(ba, bb, 1, 3, 5, 7));
      const off = i32x4.splat((128 << 18) + (1 << 17) - 1);
      let vcb = i32x4.add(i32x4.mul(R, i32x4.splat(-11059)), i32x4.mul(G, i32x4.splat(-21709)));
      vcb = i32x4.shr_s(i32x4.add(vcb, i32x4.add(i32x4.shl(B, 15), off)), 18);
      let vcr = i32x4.add(i32x4.mul(G, i32x4.splat(-27439)), i32x4.mul(B, i32x4.splat(-5329)));
      vcr = i32x4.shr_s(i32x4.add(vcr, i32x4.add(i32x4.shl(R, 15), off)), 18);
      const c16 = i16x8.narrow_i32x4_s(vcb, vcr);
      const c8 = i8x16.narrow_i16x8_u(c16, c16);
      v128.store32_lane(cb + (x >> 1), c8, 0);
      v128.store32_lane(cr + (x >> 1), c8, 1);
    }
    for (; x < pw; x += 2) {
      const xa = <usize>min(x, w - 1) << 2;
      const xb = <usize>min(x + 1, w - 1) << 2;
      const q00 = load<u32>(p0 + xa), q01 = load<u32>(p0 + xb);
      const q10 = load<u32>(p1 + xa), q11 = load<u32>(p1 + xb);
      store<u8>(y0 + x, lumaY(q00 & 0xff, (q00 >> 8) & 0xff, (q00 >> 16) & 0xff));
      store<u8>(y0 + x + 1, lumaY(q01 & 0xff, (q01 >> 8) & 0xff, (q01 >> 16) & 0xff));
      store<u8>(y1 + x, lumaY(q10 & 0xff, (q10 >> 8) & 0xff, (q10 >> 16) & 0xff));
      store<u8>(y1 + x + 1, lumaY(q11 & 0xff, (q11 >> 8) & 0xff, (q11 >> 16) & 0xff));
      const R = <i32>((q00 & 0xff) + (q01 & 0xff) + (q10 & 0xff) + (q11 & 0xff));
      const G = <i32>(((q00 >> 8) & 0xff) + ((q01 >> 8) & 0xff) + ((q10 >> 8) & 0xff) + ((q11 >> 8) & 0xff));
      const B = <i32>(((q00 >> 16) & 0xff) + ((q01 >> 16) & 0xff) + ((q10 >> 16) & 0xff) + ((q11 >> 16) & 0xff));
      store<u8>(cb + (x >> 1), chromaCb(R, G, B));
      store<u8>(cr + (x >> 1), chromaCr(R, G, B));
    }
  }
}

// JPEG (JFIF) luma of 4 RGBA pixels, 16-bit fixed point like libjpeg.
function lumaJ(v: v128): v128 {
  return weightedRgb(v, 19595, 38470, 7471, 32768, 16);
}

// One 1-D AAN forward DCT over 8 f32x4 vectors (d0..d7: 4 columns at once, or
// 4 rows), stored at p, p + 32, ..., p + 224 (rows of an 8x8 f32 block).
@inline
function aan8(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, d6: v128, d7: v128, p: usize): void {
  const t0 = f32x4.add(d0, d7), t7 = f32x4.sub(d0, d7);
  const t1 = f32x4.add(d1, d6), t6 = f32x4.sub(d1, d6);
  const t2 = f32x4.add(d2, d5), t5 = f32x4.sub(d2, d5);
  const t3 = f32x4.add(d3, d4), t4 = f32x4.sub(d3, d4);
  // even part
  const t10 = f32x4.add(t0, t3), t13 = f32x4.sub(t0, t3);
  const t11 = f32x4.add(t1, t2), t12 = f32x4.sub(t1, t2);
  v128.store(p, f32x4.add(t10, t11));
  v128.store(p, f32x4.sub(t10, t11), 128);
  const z1 = f32x4.mul(f32x4.add(t12, t13), f32x4.splat(0.707106781));
  v128.store(p, f32x4.add(t13, z1), 64);
  v128.store(p, f32x4.sub(t13, z1), 192);
  // odd part
  const o10 = f32x4.add(t4, t5), o11 = f32x4.add(t5, t6), o12 = f32x4.add(t6, t7);
  const z5 = f32x4.mul(f32x4.sub(o10, o12), f32x4.splat(0.382683433));
  const z2 = f32x4.add(f32x4.mul(o10, f32x4.splat(0.5411961)), z5);
  const z4 = f32x4.add(f32x4.mul(o12, f32x4.splat(1.306562965)), z5);
  const z3 = f32x4.mul(o11, f32x4.splat(0.707106781));
  const z11 = f32x4.add(t7, z3), z13 = f32x4.sub(t7, z3);
  v128.store(p, f32x4.add(z13, z2), 160);
  v128.store(p, f32x4.sub(z13, z2), 96);
  v128.store(p, f32x4.add(z11, z4), 32);
  v128.store(p, f32x4.sub(z11, z4), 224);
}

// Samples 4h..4h+3 of the 8 u8 at p, level-shifted, as f32.
@inline
function samples4(p: usize, h: i32): v128 {
  const b = i16x8.extend_low_i8x16_u(v128.load64_zero(p));
  const w = h ? i32x4.extend_high_i16x8_u(b) : i32x4.extend_low_i16x8_u(b);
  return f32x4.sub(f32x4.convert_i32x4_s(w), f32x4.splat(128.0));
}

// Row i of the transpose of the 4x4 f32 block (r0, r1, r2, r3).
@inline
function transposed4(r0: v128, r1: v128, r2: v128, r3: v128, i: i32): v128 {
  const lo = i < 2;
  const a = lo ? v128.shuffle<f32>(r0, r1, 0, 4, 1, 5) : v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const b = lo ? v128.shuffle<f32>(r2, r3, 0, 4, 1, 5) : v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  return (i & 1) ? v128.shuffle<f32>(a, b, 2, 3, 6, 7) : v128.shuffle<f32>(a, b, 0, 1, 4, 5);
}

// The second AAN pass for columns 4h..4h+3 of the transposed block: rows
// 4h..4h+3 of `src` (an 8x8 f32 block, row stride 32 bytes), transposed in
// registers, their 1-D DCT stored at dst, dst + 32, ..., dst + 224.
@inline
function aan8Transposed(src: usize, dst: usize): void {
  const a0 = v128.load(src), a1 = v128.load(src, 32), a2 = v128.load(src, 64), a3 = v128.load(src, 96);
  const b0 = v128.load(src, 16), b1 = v128.load(src, 48), b2 = v128.load(src, 80), b3 = v128.load(src, 112);
  aan8(
    transposed4(a0, a1, a2, a3, 0), transposed4(a0, a1, a2, a3, 1),
    transposed4(a0, a1, a2, a3, 2), transposed4(a0, a1, a2, a3, 3),
    transposed4(b0, b1, b2, b3, 0), transposed4(b0, b1, b2, b3, 1),
    transposed4(b0, b1, b2, b3, 2), transposed4(b0, b1, b2, b3, 3),
    dst,
  );
}

// Transposes the 4x4 f32 sub-block at a (row stride 32 bytes) into b; a may equal b.
@inline
function transpose4(a: usize, b: usize): void {
  const r0 = v128.load(a), r1 = v128.load(a, 32), r2 = v128.load(a, 64), r3 = v128.load(a, 96);
  v128.store(b, transposed4(r0, r1, r2, r3, 0));
  v128.store(b, transposed4(r0, r1, r2, r3, 1), 32);
  v128.store(b, transposed4(r0, r1, r2, r3, 2), 64);
  v128.store(b, transposed4(r0, r1, r2, r3, 3), 96);
}

// Transposes the 8x8 block of 32-bit lanes at p (row stride 32 bytes) in
// place: swaps the off-diagonal 4x4 blocks while transposing them.
@inline
function transpose8(p: usize): void {
  transpose4(p, p);
  transpose4(p + 144, p + 144);
  const tr0 = v128.load(p + 16), tr1 = v128.load(p + 48), tr2 = v128.load(p + 80), tr3 = v128.load(p + 112);
  transpose4(p + 128, p + 16);
  v128.store(p + 128, tr0);
  v128.store(p + 160, tr1);
  v128.store(p + 192, tr2);
  v128.store(p + 224, tr3);
  transpose4(p + 128, p + 128);
}

// sign(y) * floor(|y| + offset) for y = x * recip, as i32: adding the offset with
// y's sign gives exactly sign(y) * (|y| + offset) (IEEE addition is symmetric in
// sign), and truncation toward zero then floors its magnitude.
@inline
function quantize(x: v128, recip: v128, offset: v128): v128 {
  const y = f32x4.mul(x, recip);
  const signedOffset = v128.or(offset, v128.and(y, i32x4.splat(0x80000000)));
  // |y| < 2^16 here: the relaxed truncation (one cvttps2dq on x86) equals the saturating one
  return i32x4.relaxed_trunc_f32x4_s(f32x4.add(y, signedOffset));
}

// Reorders the 64 i16 at `src` (transposed natural order) into zigzag order at
// `out`, as `out[k] = src[ZIGZAG_T[k]]`: each output vector gathers its lanes from
// the input rows holding them with byte swizzles (generated from ZIGZAG_T), far
// cheaper than 64 scalar moves (kernels_test.ts checks the encoder's bytes).
@inline
function zigzag(src: usize, out: usize): void {
  const r0 = v128.load(src), r1 = v128.load(src, 16), r2 = v128.load(src, 32), r3 = v128.load(src, 48);
  const r4 = v128.load(src, 64), r5 = v128.load(src, 80), r6 = v128.load(src, 96), r7 = v128.load(src, 112);
  v128.store(out, v128.or(v128.or(v128.or(i8x16.swizzle(r0, i8x16(0, 1, -1, -1, 2, 3, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1)), i8x16.swizzle(r1, i8x16(-1, -1, 0, 1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r2, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, 2, 3))), i8x16.swizzle(r3, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1))), 0);
  v128.store(out, v128.or(v128.or(v128.or(v128.or(v128.or(i8x16.swizzle(r0, i8x16(-1, -1, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)), i8x16.swizzle(r1, i8x16(4, 5, -1, -1, -1, -1, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r2, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r3, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1))), i8x16.swizzle(r4, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1))), i8x16.swizzle(r5, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1))), 16);
  v128.store(out, v128.or(v128.or(v128.or(v128.or(i8x16.swizzle(r0, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 10, 11, 12, 13, -1, -1, -1, -1)), i8x16.swizzle(r1, i8x16(-1, -1, -1, -1, -1, -1, 8, 9, -1, -1, -1, -1, 10, 11, -1, -1))), i8x16.swizzle(r2, i8x16(-1, -1, -1, -1, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9))), i8x16.swizzle(r3, i8x16(-1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r4, i8x16(2, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1))), 32);
  v128.store(out, v128.or(v128.or(v128.or(v128.or(i8x16.swizzle(r3, i8x16(6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)), i8x16.swizzle(r4, i8x16(-1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7))), i8x16.swizzle(r5, i8x16(-1, -1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5, -1, -1))), i8x16.swizzle(r6, i8x16(-1, -1, -1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1, -1, -1))), i8x16.swizzle(r7, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1))), 48);
  v128.store(out, v128.or(v128.or(v128.or(v128.or(i8x16.swizzle(r0, i8x16(-1, -1, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1)), i8x16.swizzle(r1, i8x16(-1, -1, -1, -1, 12, 13, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r2, i8x16(-1, -1, 10, 11, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1))), i8x16.swizzle(r3, i8x16(8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1))), i8x16.swizzle(r4, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9))), 64);
  v128.store(out, v128.or(v128.or(v128.or(v128.or(i8x16.swizzle(r3, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 12, 13)), i8x16.swizzle(r4, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1))), i8x16.swizzle(r5, i8x16(6, 7, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, -1, -1, -1, -1))), i8x16.swizzle(r6, i8x16(-1, -1, 4, 5, -1, -1, -1, -1, 6, 7, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r7, i8x16(-1, -1, -1, -1, 2, 3, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1))), 80);
  v128.store(out, v128.or(v128.or(v128.or(v128.or(v128.or(i8x16.swizzle(r2, i8x16(14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)), i8x16.swizzle(r3, i8x16(-1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r4, i8x16(-1, -1, -1, -1, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r5, i8x16(-1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r6, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 8, 9, -1, -1, -1, -1, 10, 11))), i8x16.swizzle(r7, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, 8, 9, -1, -1))), 96);
  v128.store(out, v128.or(v128.or(v128.or(i8x16.swizzle(r4, i8x16(-1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)), i8x16.swizzle(r5, i8x16(12, 13, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1))), i8x16.swizzle(r6, i8x16(-1, -1, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, 14, 15, -1, -1))), i8x16.swizzle(r7, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 10, 11, 12, 13, -1, -1, 14, 15))), 112);
}

// Forward DCT + quantization of the 8x8 u8 block at `src` (row stride
// `stride`) with reciprocal divisors and rounding offsets `q` (2 x 64 f32, transposed order); writes
// 64 i16 in zigzag order to `out`.
function fdctQuant(src: usize, stride: usize, q: usize, out: usize): void {
  // the first pass straight from the samples, 4 columns at a time
  for (let h = 0; h < 2; h++) {
    aan8(
      samples4(src, h), samples4(src + stride, h), samples4(src + 2 * stride, h), samples4(src + 3 * stride, h),
      samples4(src + 4 * stride, h), samples4(src + 5 * stride, h), samples4(src + 6 * stride, h), samples4(src + 7 * stride, h),
      BLOCK + <usize>(h << 4),
    );
  }
  // the second on the transposed block, into BLOCK2
  aan8Transposed(BLOCK, BLOCK2);
  aan8Transposed(BLOCK + 128, BLOCK2 + 16);
  // quantize: BLOCK2 now holds coefficient (u, v) at v * 8 + u
  // q[0..63]: reciprocal divisors, q[64..127]: rounding offsets (0.5 = nearest,
  // less = a dead zone that rounds small values toward zero)
  for (let i: usize = 0; i < 256; i += 32) {
    const x0 = quantize(v128.load(BLOCK2 + i), v128.load(q + i), v128.load(q + i + 256));
    const x1 = quantize(v128.load(BLOCK2 + i + 16), v128.load(q + i + 16), v128.load(q + i + 272));
    // baseline JPEG codes at most 10 magnitude bits for AC (only reachable near quality 100)
    const n = i16x8.narrow_i32x4_s(x0, x1);
    v128.store(QBLOCK + (i >> 1), i16x8.max_s(i16x8.min_s(n, i16x8.splat(1023)), i16x8.splat(-1023)));
  }
  zigzag(QBLOCK, out);
}

/**
 * DCT + quantization of all blocks of the planes made by jpegColor, written
 * to `coef` as 64 i16 per block in zigzag order, MCU after MCU (Y0 Y1 Y2 Y3
 * Cb Cr). `qy`, `qc`: 64 f32 reciprocal divisors then 64 f32 rounding offsets each, transposed order.
 */
export function jpegDct(yp: usize, cbp: usize, crp: usize, pw: i32, ph: i32, qy: usize, qc: usize, coef: usize): void {
  const stride = <usize>pw;
  const cstride = <usize>(pw >> 1);
  let out = coef;
  for (let my = 0; my < ph >> 4; my++) {
    for (let mx = 0; mx < pw >> 4; mx++) {
      const yb = yp + <usize>(my << 4) * stride + <usize>(mx << 4);
      fdctQuant(yb, stride, qy, out);
      fdctQuant(yb + 8, stride, qy, out + 128);
      fdctQuant(yb + 8 * stride, stride, qy, out + 256);
      fdctQuant(yb + 8 * stride + 8, stride, qy, out + 384);
      const co = <usize>(my << 3) * cstride + <usize>(mx << 3);
      fdctQuant(cbp + co, cstride, qc, out + 512);
      fdctQuant(crp + co, cstride, qc, out + 640);
      out += 768;
    }
  }
}

// Bitmask (bit k set) of the nonzero coefficients of a zigzag block.
function nonzeroMask(blk: usize): u64 {
  const z = i16x8.splat(0);
  const m0 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(blk), z), i16x8.ne(v128.load(blk, 16), z));
  const m1 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(blk, 32), z), i16x8.ne(v128.load(blk, 48), z));
  const m2 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(blk, 64), z), i16x8.ne(v128.load(blk, 80), z));
  const m3 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(blk, 96), z), i16x8.ne(v128.load(blk, 112), z));
  return <u64>i8x16.bitmask(m0) | (<u64>i8x16.bitmask(m1) << 16) | (<u64>i8x16.bitmask(m2) << 32) | (<u64>i8x16.bitmask(m3) << 48);
}

function bitLength(v: i32): i32 {
  const a = v < 0 ? -v : v;
  return 32 - clz(a);
}

// One symbol of the entropy-coded data, as jpegStats stores it for jpegEmit:
// the byte offset of its entry in the 4 tables of 256 u32 (table << 10 | symbol << 2),
// the number of extra bits and those bits.
@inline
function symbol(off: usize, nb: i32, bits: i32): u32 {
  return (<u32>off << 20) | (<u32>nb << 16) | <u32>bits;
}

// The symbol of a DC difference or (run << 4 | size) of an AC value `v` in table `t` (0..3).
@inline
function valueSymbol(t: i32, run: i32, v: i32): u32 {
  const nb = bitLength(v);
  return symbol((<usize>t << 10) | (<usize>((run << 4) | nb) << 2), nb, (v < 0 ? v - 1 : v) & ((1 << nb) - 1));
}

// Counts a symbol in `freq` and appends it at `out`; returns the next free place.
@inline
function countSymbol(freq: usize, out: usize, sym: u32): usize {
  const p = freq + <usize>(sym >> 20);
  store<u32>(p, load<u32>(p) + 1);
  store<u32>(out, sym);
  return out + 4;
}

/**
 * Walks `nMcu` MCUs of coefficients once: counts their Huffman symbols'
 * frequencies into `freq` (4 tables of 256 u32: DC luma, AC luma, DC chroma,
 * AC chroma) and writes the symbols with their extra bits to `syms` (at
 * most 64 u32 a block) for jpegEmit. Returns the number of symbols.
 */
export function jpegStats(coef: usize, nMcu: i32, freq: usize, syms: usize): i32 {
  let predY = 0, predCb = 0, predCr = 0;
  let blk = coef;
  let out = syms;
  for (let m = 0; m < nMcu; m++) {
    for (let b = 0; b < 6; b++) {
      const t = b < 4 ? 0 : 2;
      const dc = <i32>load<i16>(blk);
      let diff: i32;
      if (b < 4) { diff = dc - predY; predY = dc; } else if (b == 4) { diff = dc - predCb; predCb = dc; } else { diff = dc - predCr; predCr = dc; }
      out = countSymbol(freq, out, valueSymbol(t, 0, diff));
      let mask = nonzeroMask(blk) & ~(<u64>1);
      let last = 0;
      while (mask != 0) {
        const k = <i32>ctz(mask);
        let run = k - last - 1;
        while (run > 15) { out = countSymbol(freq, out, symbol((<usize>(t + 1) << 10) | (0xf0 << 2), 0, 0)); run -= 16; }
        out = countSymbol(freq, out, valueSymbol(t + 1, run, <i32>load<i16>(blk + (<usize>k << 1))));
        last = k;
        mask &= mask - 1;
      }
      if (last != 63) out = countSymbol(freq, out, symbol(<usize>(t + 1) << 10, 0, 0));
      blk += 128;
    }
  }
  return <i32>((out - syms) >> 2);
}

// Bit writer state.
let bitBuf: u64 = 0;
let bitCnt: i32 = 0;
let outPos: usize = 0;

function flushWord(): void {
  bitCnt -= 32;
  const word = <u32>(bitBuf >> <u64>bitCnt);
  const inv = ~word;
  if (((inv - 0x01010101) & ~inv & 0x80808080) == 0) {
    // no 0xFF byte: no stuffing needed
    store<u32>(outPos, bswap<u32>(word));
    outPos += 4;
  } else {
    for (let s = 24; s >= 0; s -= 8) {
      const byte = (word >> s) & 0xff;
      store<u8>(outPos++, <u8>byte);
      if (byte == 0xff) store<u8>(outPos++, 0);
    }
  }
}

@inline
function putBits(code: u32, len: i32): void {
  bitBuf = (bitBuf << <u64>len) | <u64>code;
  bitCnt += len;
  if (bitCnt >= 32) flushWord();
}

/**
 * Huffman-codes the `n` symbols jpegStats wrote at `syms` to `out` with the
 * tables at `huff` (4 x 256 u32 = (length << 16) | code, same order as
 * jpegStats), including 0xFF byte stuffing and the final 1-bit padding.
 * Returns the number of bytes written.
 */
export function jpegEmit(syms: usize, n: i32, huff: usize, out: usize): i32 {
  bitBuf = 0;
  bitCnt = 0;
  outPos = out;
  const end = syms + (<usize>n << 2);
  for (let p = syms; p < end; p += 4) {
    const s = load<u32>(p);
    const e = load<u32>(huff + <usize>(s >> 20));
    const nb = (s >> 16) & 15;
    putBits(((e & 0xffff) << nb) | (s & 0xffff), <i32>((e >> 16) + nb));
  }
  // pad with 1-bits to a byte boundary, then flush what is left
  const pad = (8 - (bitCnt & 7)) & 7;
  if (pad) putBits((1 << pad) - 1, pad);
  while (bitCnt >= 8) {
    bitCnt -= 8;
    const byte = <u32>(bitBuf >> <u64>bitCnt) & 0xff;
    store<u8>(outPos++, <u8>byte);
    if (byte == 0xff) store<u8>(outPos++, 0);
  }
  return <i32>(outPos - out);
}

// ---------------------------------------------------------------------------
// Baseline JPEG decoder: Huffman decoding, libjpeg's integer "islow" IDCT,
// fancy (triangle) chroma upsampling and YCbCr -> RGB exactly like libjpeg
// ---------------------------------------------------------------------------

// Natural (row-major) index of the k-th coefficient in zigzag order.
const ZIGZAG = memory.data<u8>([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
  12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
  58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

// One block of 64 i16 coefficients (natural order) and the IDCT workspace (64 i32).
const DBLOCK = memory.data(128, 16);
const DWS = memory.data(256, 16);
const DWS2 = memory.data(256, 16);

// Bit reader: bits are consumed from the top of dBuf; dCnt bits are valid, of
// which the last dPad are zeros fed after a marker or the end of the data.
let dPos: usize = 0;
let dEnd: usize = 0;
let dLimit: usize = 0;
let dBuf: u64 = 0;
let dCnt: i32 = 0;
let dPad: i32 = 0;
// What the baseline decoder forgave, as libjpeg-turbo does (jdhuff.c) with a
// warning: 1 bad Huffman code or a run past the block's end, 2 data ended
// early in a restart interval (jpeg_fill_bit_buffer's insufficient_data), 4
// restart markers out of place (jpeg_resync_to_restart), 8 data left over
// or missing at the scan's end (next_marker's extraneous bytes).
let dWarn: i32 = 0;

function dFill(): void {
  // fast path: 4 bytes without 0xFF (no stuffing, no marker)
  if (dCnt <= 32 && dPos + 4 <= dEnd) {
    const w = load<u32>(dPos);
    const inv = ~w;
    if (((inv - 0x01010101) & ~inv & 0x80808080) == 0) {
      dBuf |= <u64>bswap<u32>(w) << <u64>(32 - dCnt);
      dCnt += 32;
      dPos += 4;
      return;
    }
  }
  while (dCnt <= 56) {
    let b: u32 = 0;
    if (dPos < dEnd) {
      b = load<u8>(dPos);
      if (b == 0xff) {
        if (dPos + 1 < dEnd && load<u8>(dPos + 1) == 0) {
          dPos += 2;
        } else {
          // FF FF ... 00 is a data byte FF to libjpeg (its fill skips FF fill bytes)
          let f = dPos + 1;
          while (f < dEnd && load<u8>(f) == 0xff) f++;
          if (f < dEnd && load<u8>(f) == 0) {
            dPos = f + 1;
            dBuf |= <u64>b << <u64>(56 - dCnt);
            dCnt += 8;
            continue;
          }
          // a marker: stop here (dPos stays on it), feed zeros from now on
          b = 0;
          dEnd = dPos;
          dPad += 8;
        }
      } else {
        dPos++;
      }
    } else {
      dPad += 8;
    }
    dBuf |= <u64>b << <u64>(56 - dCnt);
    dCnt += 8;
  }
}

// dFill for a caller that keeps the bit buffer in locals (`buf`, `cnt`):
// returns the new buffer, the new count is dCnt.
@inline
function dFillFrom(buf: u64, cnt: i32): u64 {
  dBuf = buf;
  dCnt = cnt;
  dFill();
  return dBuf;
}

// Huffman table layout (built by the wrapper): i32[17] maxcode per code
// length at 0, i32[17] value offset per length at 80, u8[256] symbols at 160,
// then a lookup of the next HUFF_BITS bits: u16 (length << 8) | symbol, 0 for
// longer codes, at HUFF_LOOKUP; then i32 at HUFF_FAST: the next HUFF_BITS
// bits as a whole coefficient when code and value bits fit in them,
// (value << 8) | (run << 4) | length (AC: value 0 is EOBr with runs 0..14,
// whose r more bits are not counted, or ZRL with run 15; DC: run 0, value
// the difference), 0 otherwise.
const HUFF_BITS = 11;
const HUFF_LOOKUP: usize = 512;
const HUFF_FAST: usize = HUFF_LOOKUP + (2 << HUFF_BITS);

function dHuffSlow(t: usize): i32 {
  let l = HUFF_BITS + 1;
  let code = <i32>(dBuf >> <u64>(64 - l));
  while (l <= 16 && code > load<i32>(t + (<usize>l << 2))) {
    l++;
    code = <i32>(dBuf >> <u64>(64 - l));
  }
  if (l > 16) {
    // libjpeg's jpeg_huff_decode: warns "bad Huffman code", drops the 17 bits
    // read and fakes a zero symbol (DC difference 0, AC end of block)
    dWarn |= 1;
    dBuf <<= 17;
    dCnt -= 17;
    return 0;
  }
  dBuf <<= <u64>l;
  dCnt -= l;
  return <i32>load<u8>(t + 160 + <usize>(load<i32>(t + 80 + (<usize>l << 2)) + code));
}

// Decodes one Huffman symbol with table t (bit buffer in the globals).
function dHuff(t: usize): i32 {
  const e = <i32>load<u16>(t + HUFF_LOOKUP + (<usize>(dBuf >> <u64>(64 - HUFF_BITS)) << 1));
  if (e == 0) return dHuffSlow(t);
  const l = e >> 8;
  dBuf <<= <u64>l;
  dCnt -= l;
  return e & 0xff;
}

// The value of the s (1..15) magnitude bits v as JPEG codes them.
@inline
function extend(v: i32, s: i32): i32 {
  return v < (1 << (s - 1)) ? v - (1 << s) + 1 : v;
}

// Zeros the 128 bytes at p: 8 stores, no loop.
@inline
function zero128(p: usize): void {
  const z = i32x4.splat(0);
  v128.store(p, z);
  v128.store(p, z, 16);
  v128.store(p, z, 32);
  v128.store(p, z, 48);
  v128.store(p, z, 64);
  v128.store(p, z, 80);
  v128.store(p, z, 96);
  v128.store(p, z, 112);
}

// Zeros DBLOCK: 8 stores at constant addresses (no loop, and V8 checks no
// bounds for an address below the memory's initial size).
@inline
function clearBlock(): void {
  zero128(DBLOCK);
}

// The bit buffer `buf` holding `cnt` bits, refilled for a caller keeping it
// in locals: returns the buffer, its count is then dCnt. It takes the next 8
// bytes at once when none is 0xFF (no stuffing, no marker): as many whole
// bytes as fit (the buffer then holds 56 to 63 bits); the bits of the next
// byte, below them, are that byte's own, so the next refill ORs the same
// bits there again. Else dFill (stuffing, markers, the data's end).
@inline
function dRefill(buf: u64, cnt: i32): u64 {
  const pos = dPos;
  // the complement of the next 8 bytes, 0 (a zero byte: dFill) if fewer are left
  const w = pos + 8 <= dEnd ? ~load<u64>(pos) : 0;
  if (((w - 0x0101010101010101) & ~w & 0x8080808080808080) != 0) return dFillFrom(buf, cnt);
  const n = (63 - cnt) >> 3;
  dPos = pos + <usize>n;
  dCnt = cnt + (n << 3);
  return buf | bswap<u64>(~w) >> <u64>cnt;
}

// The byte offset in DBLOCK of the k-th coefficient in zigzag order, k = 0..78:
// entries 64..78 are 126 (the last term), as libjpeg's jpeg_natural_order's
// extra entries, so a run past the block's end (corrupt data: k = 63 + up to
// 15) needs no test before its store (see dBlock).
const DZIGZAG = memory.data<u8>([
  0, 2, 16, 32, 18, 4, 6, 20, 34, 48, 64, 50, 36, 22, 8, 10,
  24, 38, 52, 66, 80, 96, 82, 68, 54, 40, 26, 12, 14, 28, 42, 56,
  70, 84, 98, 112, 114, 100, 86, 72, 58, 44, 30, 46, 60, 74, 88, 102,
  116, 118, 104, 90, 76, 62, 78, 92, 106, 120, 122, 108, 94, 110, 124, 126,
  126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126,
]);

// Decodes one block into DBLOCK; returns 0 if its AC terms are all zero, 1 if
// the nonzero ones are all in the first 10 in zigzag order (the top-left
// 4x4), 2 otherwise.
// The bit buffer lives in locals here, written back around the slow calls
// (refilled by dRefill).
function dBlock(dc: usize, ac: usize, pred: usize): i32 {
  clearBlock();
  let buf = dBuf, cnt = dCnt;
  if (cnt < 32) {
    buf = dRefill(buf, cnt);
    cnt = dCnt;
  }
  let p = load<i32>(pred);
  const fd = load<i32>(dc + HUFF_FAST + (<usize>(buf >> <u64>(64 - HUFF_BITS)) << 2));
  if (fd) {
    const l = fd & 15;
    buf <<= <u64>l;
    cnt -= l;
    p += fd >> 8;
  } else {
    dBuf = buf;
    dCnt = cnt;
    const s = dHuff(dc);
    buf = dBuf;
    cnt = dCnt;
    if (s) {
      p += extend(<i32>(buf >> <u64>(64 - s)), s);
      buf <<= <u64>s;
      cnt -= s;
    }
  }
  store<i32>(pred, p);
  store<i16>(DBLOCK, <i16>p);
  let nz = 0;
  let k = 1;
  const fast = ac + HUFF_FAST;
  while (k < 64) {
    if (cnt < 32) {
      buf = dRefill(buf, cnt);
      cnt = dCnt;
    }
    const f = load<i32>(fast + (<usize>(buf >> <u64>(64 - HUFF_BITS)) << 2));
    if (f) {
      const l = f & 15;
      buf <<= <u64>l;
      cnt -= l;
      if ((f >> 8) == 0) {
        if ((f & 0xf0) != 0xf0) break; // EOB (any run but 15, as libjpeg)
        k += 16; // ZRL
        continue;
      }
      k += (f >> 4) & 15;
      store<i16>(DBLOCK + <usize>load<u8>(DZIGZAG + k), <i16>(f >> 8));
      nz = k; // the last nonzero term so far
      k++;
      continue;
    }
    dBuf = buf;
    dCnt = cnt;
    const rs = dHuff(ac);
    buf = dBuf;
    cnt = dCnt;
    const r = rs >> 4;
    const n = rs & 15;
    if (n) {
      k += r;
      store<i16>(DBLOCK + <usize>load<u8>(DZIGZAG + k), <i16>extend(<i32>(buf >> <u64>(64 - n)), n));
      buf <<= <u64>n;
      cnt -= n;
      nz = k; // the last nonzero term so far
      k++;
    } else {
      if (r != 15) break;
      k += 16;
    }
  }
  dBuf = buf;
  dCnt = cnt;
  if (nz > 63) {
    // a run past the end of the block (corrupt data): libjpeg's extra
    // jpeg_natural_order entries put the value at 63 (DZIGZAG's too), and the
    // block ends there
    dWarn |= 1;
    nz = 63;
  }
  // which IDCT it needs (see idct): 0 DC only, 1 all in the top-left 4x4, 2 any
  return nz > 9 ? 2 : nz > 0 ? 1 : 0;
}

// One pass of jidctint's 1-D IDCT over 8 i32x4 vectors at p, p + 32, ...,
// p + 224, in place, descaling by `shift` with rounding.
// @inline
function idctPass(p: usize, shift: i32): void {
  const bias = i32x4.splat(1 << (shift - 1));
  // even part
  const e2 = v128.load(p, 64), e6 = v128.load(p, 192);
  const z1 = i32x4.mul(i32x4.add(e2, e6), i32x4.splat(4433));
  const tmp2 = i32x4.add(z1, i32x4.mul(e6, i32x4.splat(-15137)));
  const tmp3 = i32x4.add(z1, i32x4.mul(e2, i32x4.splat(6270)));
  const e0 = v128.load(p), e4 = v128.load(p, 128);
  const tmp0 = i32x4.add(i32x4.shl(i32x4.add(e0, e4), 13), bias);
  const tmp1 = i32x4.add(i32x4.shl(i32x4.sub(e0, e4), 13), bias);
  const tmp10 = i32x4.add(tmp0, tmp3), tmp13 = i32x4.sub(tmp0, tmp3);
  const tmp11 = i32x4.add(tmp1, tmp2), tmp12 = i32x4.sub(tmp1, tmp2);
  // odd part
  let o0 = v128.load(p, 224), o1 = v128.load(p, 160), o2 = v128.load(p, 96), o3 = v128.load(p, 32);
  let y1 = i32x4.add(o0, o3), y2 = i32x4.add(o1, o2), y3 = i32x4.add(o0, o2), y4 = i32x4.add(o1, o3);
  const z5 = i32x4.mul(i32x4.add(y3, y4), i32x4.splat(9633));
  o0 = i32x4.mul(o0, i32x4.splat(2446));
  o1 = i32x4.mul(o1, i32x4.splat(16819));
  o2 = i32x4.mul(o2, i32x4.splat(25172));
  o3 = i32x4.mul(o3, i32x4.splat(12299));
  y1 = i32x4.mul(y1, i32x4.splat(-7373));
  y2 = i32x4.mul(y2, i32x4.splat(-20995));
  y3 = i32x4.add(i32x4.mul(y3, i32x4.splat(-16069)), z5);
  y4 = i32x4.add(i32x4.mul(y4, i32x4.splat(-3196)), z5);
  o0 = i32x4.add(o0, i32x4.add(y1, y3));
  o1 = i32x4.add(o1, i32x4.add(y2, y4));
  o2 = i32x4.add(o2, i32x4.add(y2, y3));
  o3 = i32x4.add(o3, i32x4.add(y1, y4));
  v128.store(p, i32x4.shr_s(i32x4.add(tmp10, o3), shift));
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp10, o3), shift), 224);
  v128.store(p, i32x4.shr_s(i32x4.add(tmp11, o2), shift), 32);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp11, o2), shift), 192);
  v128.store(p, i32x4.shr_s(i32x4.add(tmp12, o1), shift), 64);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp12, o1), shift), 160);
  v128.store(p, i32x4.shr_s(i32x4.add(tmp13, o0), shift), 96);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp13, o0), shift), 128);
}

// idctPass for a block whose terms 4..7 along the pass are all zero (rows
// 4..7 read as zeros): the same integer arithmetic without the zero products.
// @inline
function idctPassLight(p: usize, shift: i32): void {
  const bias = i32x4.splat(1 << (shift - 1));
  const e2 = v128.load(p, 64);
  const z1 = i32x4.mul(e2, i32x4.splat(4433));
  const tmp3 = i32x4.add(z1, i32x4.mul(e2, i32x4.splat(6270)));
  const tmp0 = i32x4.add(i32x4.shl(v128.load(p), 13), bias);
  const tmp10 = i32x4.add(tmp0, tmp3), tmp13 = i32x4.sub(tmp0, tmp3);
  const tmp11 = i32x4.add(tmp0, z1), tmp12 = i32x4.sub(tmp0, z1);
  const o2 = v128.load(p, 96), o3 = v128.load(p, 32);
  const z5 = i32x4.mul(i32x4.add(o2, o3), i32x4.splat(9633));
  const y1 = i32x4.mul(o3, i32x4.splat(-7373));
  const y2 = i32x4.mul(o2, i32x4.splat(-20995));
  const y3 = i32x4.add(i32x4.mul(o2, i32x4.splat(-16069)), z5);
  const y4 = i32x4.add(i32x4.mul(o3, i32x4.splat(-3196)), z5);
  const r0 = i32x4.add(y1, y3);
  const r1 = i32x4.add(y2, y4);
  const r2 = i32x4.add(i32x4.mul(o2, i32x4.splat(25172)), i32x4.add(y2, y3));
  const r3 = i32x4.add(i32x4.mul(o3, i32x4.splat(12299)), i32x4.add(y1, y4));
  v128.store(p, i32x4.shr_s(i32x4.add(tmp10, r3), shift));
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp10, r3), shift), 224);
  v128.store(p, i32x4.shr_s(i32x4.add(tmp11, r2), shift), 32);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp11, r2), shift), 192);
  v128.store(p, i32x4.shr_s(i32x4.add(tmp12, r1), shift), 64);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp12, r1), shift), 160);
  v128.store(p, i32x4.shr_s(i32x4.add(tmp13, r0), shift), 96);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp13, r0), shift), 128);
}

// libjpeg's range limit after the IDCT: range_limit[x & 1023] (clamp to
// 0..255 of x + 128 for |x| < 512, wrapping beyond) for 4 + 4 values.
// @inline
function idctRange(a: v128, b: v128): v128 {
  const c512 = i32x4.splat(512), m = i32x4.splat(1023), c384 = i32x4.splat(384);
  const ra = i32x4.sub(v128.and(i32x4.add(a, c512), m), c384);
  const rb = i32x4.sub(v128.and(i32x4.add(b, c512), m), c384);
  const n = i16x8.narrow_i32x4_s(ra, rb);
  return i8x16.narrow_i16x8_u(n, n);
}

// Dequantizes the block at `src` (64 i16, natural order) with `q` (64 i32)
// and writes its inverse DCT (jidctint, bit exact) as 8x8 bytes at out (row
// stride `stride`). `nz` says which terms may be nonzero (see dBlock; the
// lighter passes skip zero products, the same arithmetic): 0 the DC term
// only, 1 those in the top-left 4x4, 2 any, 3 those in rows 0..3, 4 those in
// columns 0..3.
function idct(src: usize, q: usize, out: usize, stride: usize, nz: i32): void {
  if (!nz) {
    // DC only: both passes reduce to one value, computed as libjpeg-turbo's
    // SIMD IDCT (what Pillow and djpeg run on x86) does: the dequantized term
    // and its pass-1 shift in 16 bits, the result saturated. The same as
    // jidctint.c's wrapping range limit for any value real data gives; only
    // damaged data (a DC drifted far out of range) tells them apart.
    const p1 = <i32><i16>(<i32><i16>(<i32>load<i16>(src) * load<i32>(q)) << 2);
    const x = (p1 + 16) >> 5;
    const v = <u8>((x < -128 ? -128 : x > 127 ? 127 : x) + 128);
    const row = i8x16.splat(v);
    for (let r: usize = 0; r < 8; r++) v128.store64_lane(out + r * stride, row, 0);
    return;
  }
  if (nz == 1 || nz == 4) {
    // columns 4..7 all zero: they give zeros in the first pass (skipped),
    // and the second pass has terms 0..3 only; rows 4..7 too (nz 1): a
    // lighter first pass
    const rows: usize = nz == 1 ? 4 : 8;
    for (let r: usize = 0; r < rows; r++) {
      const c = v128.load64_zero(src + (r << 4));
      v128.store(DWS + (r << 5), i32x4.mul(i32x4.extend_low_i16x8_s(c), v128.load(q + (r << 5))));
    }
    if (nz == 1) idctPassLight(DWS, 11);
    else idctPass(DWS, 11);
    transpose4(DWS, DWS2);
    transpose4(DWS + 128, DWS2 + 16);
    idctPassLight(DWS2, 18);
    idctPassLight(DWS2 + 16, 18);
    transpose8(DWS2);
    for (let r: usize = 0; r < 8; r++) {
      v128.store64_lane(out + r * stride, idctRange(v128.load(DWS2 + (r << 5)), v128.load(DWS2 + (r << 5) + 16)), 0);
    }
    return;
  }
  // rows 4..7 all zero (nz 3): a lighter first pass
  const rows: usize = nz == 3 ? 4 : 8;
  for (let r: usize = 0; r < rows; r++) {
    const c = v128.load(src + (r << 4));
    v128.store(DWS + (r << 5), i32x4.mul(i32x4.extend_low_i16x8_s(c), v128.load(q + (r << 5))));
    v128.store(DWS + (r << 5) + 16, i32x4.mul(i32x4.extend_high_i16x8_s(c), v128.load(q + (r << 5) + 16)));
  }
  if (nz == 3) {
    idctPassLight(DWS, 11);
    idctPassLight(DWS + 16, 11);
  } else {
    idctPass(DWS, 11);
    idctPass(DWS + 16, 11);
  }
  transpose8(DWS);
  idctPass(DWS, 18);
  idctPass(DWS + 16, 18);
  transpose8(DWS);
  for (let r: usize = 0; r < 8; r++) {
    v128.store64_lane(out + r * stride, idctRange(v128.load(DWS + (r << 5)), v128.load(DWS + (r << 5) + 16)), 0);
  }
}

// libjpeg's reduced-size inverse DCTs (jidctred.c: jpeg_idct_4x4 and
// jpeg_idct_2x2, bit exact; their shortcuts for zero columns and rows give
// the same values as the full computation): a block's 4x4 or 2x2 samples
// straight from its coefficients, for decoding at 1/2 or 1/4 scale.

// The 4x4 IDCT's 1-D pass over vectors x0..x7 (rows or columns 0..7, 4 is
// unused), descaled by `shift`; writes the 4 outputs at p, p + 32, p + 64, p + 96.
@inline
function idct4Pass(x0: v128, x1: v128, x2: v128, x3: v128, x5: v128, x6: v128, x7: v128, shift: i32, p: usize): void {
  const bias = i32x4.splat(1 << (shift - 1));
  const tmp0 = i32x4.add(i32x4.shl(x0, 14), bias);
  const tmp2 = i32x4.add(i32x4.mul(x2, i32x4.splat(15137)), i32x4.mul(x6, i32x4.splat(-6270)));
  const tmp10 = i32x4.add(tmp0, tmp2), tmp12 = i32x4.sub(tmp0, tmp2);
  const o0 = i32x4.add(
    i32x4.add(i32x4.mul(x7, i32x4.splat(-1730)), i32x4.mul(x5, i32x4.splat(11893))),
    i32x4.add(i32x4.mul(x3, i32x4.splat(-17799)), i32x4.mul(x1, i32x4.splat(8697))),
  );
  const o2 = i32x4.add(
    i32x4.add(i32x4.mul(x7, i32x4.splat(-4176)), i32x4.mul(x5, i32x4.splat(-4926))),
    i32x4.add(i32x4.mul(x3, i32x4.splat(7373)), i32x4.mul(x1, i32x4.splat(20995))),
  );
  v128.store(p, i32x4.shr_s(i32x4.add(tmp10, o2), shift));
  v128.store(p, i32x4.shr_s(i32x4.add(tmp12, o0), shift), 32);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp12, o0), shift), 64);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp10, o2), shift), 96);
}

// idct4Pass with x5, x6, x7 zero (a block whose terms all lie in the
// top-left 4x4): the same arithmetic without the zero products.
@inline
function idct4PassLight(x0: v128, x1: v128, x2: v128, x3: v128, shift: i32, p: usize): void {
  const bias = i32x4.splat(1 << (shift - 1));
  const tmp0 = i32x4.add(i32x4.shl(x0, 14), bias);
  const tmp2 = i32x4.mul(x2, i32x4.splat(15137));
  const tmp10 = i32x4.add(tmp0, tmp2), tmp12 = i32x4.sub(tmp0, tmp2);
  const o0 = i32x4.add(i32x4.mul(x3, i32x4.splat(-17799)), i32x4.mul(x1, i32x4.splat(8697)));
  const o2 = i32x4.add(i32x4.mul(x3, i32x4.splat(7373)), i32x4.mul(x1, i32x4.splat(20995)));
  v128.store(p, i32x4.shr_s(i32x4.add(tmp10, o2), shift));
  v128.store(p, i32x4.shr_s(i32x4.add(tmp12, o0), shift), 32);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp12, o0), shift), 64);
  v128.store(p, i32x4.shr_s(i32x4.sub(tmp10, o2), shift), 96);
}

// Dequantized row k of the block at `src`, columns 4h..4h+3, as i32x4.
@inline
function dqRow(src: usize, q: usize, k: usize, h: usize): v128 {
  return i32x4.mul(i32x4.extend_low_i16x8_s(v128.load64_zero(src + (k << 4) + (h << 3))), v128.load(q + (k << 5) + (h << 4)));
}

// The value every sample of a DC-only block gets (at any IDCT size).
@inline
function dcOnly(src: usize, q: usize): i32 {
  return ((<i32>load<i16>(src) * load<i32>(q)) << 2) + 16 >> 5;
}

// jpeg_idct_4x4 of the block at `src` with `q` into 4x4 bytes at out (row stride `stride`).
function idct4(src: usize, q: usize, out: usize, stride: usize, nz: i32): void {
  if (!nz) {
    const x = dcOnly(src, q);
    const v = idctRange(i32x4.splat(x), i32x4.splat(x));
    for (let r: usize = 0; r < 4; r++) v128.store32_lane(out + r * stride, v, 0);
    return;
  }
  if (nz == 1) {
    // all terms in the top-left 4x4: columns 4..7 and rows 4..7 are zeros
    idct4PassLight(dqRow(src, q, 0, 0), dqRow(src, q, 1, 0), dqRow(src, q, 2, 0), dqRow(src, q, 3, 0), 12, DWS);
    transpose4(DWS, DWS);
    idct4PassLight(v128.load(DWS), v128.load(DWS, 32), v128.load(DWS, 64), v128.load(DWS, 96), 19, DWS + 128);
  } else {
    idct4Full(src, q);
  }
  transpose4(DWS + 128, DWS + 128);
  const a = idctRange(v128.load(DWS, 128), v128.load(DWS, 160));
  const b = idctRange(v128.load(DWS, 192), v128.load(DWS, 224));
  v128.store32_lane(out, a, 0);
  v128.store32_lane(out + stride, a, 1);
  v128.store32_lane(out + 2 * stride, b, 0);
  v128.store32_lane(out + 3 * stride, b, 1);
}

// The two passes of jpeg_idct_4x4 over the block at `src`, leaving the 4 output columns
// (lanes: rows) at DWS + 128, + 160, + 192, + 224.
function idct4Full(src: usize, q: usize): void {
  // columns: 4 rows of 8 (two halves of 4 columns) at DWS, row stride 32
  for (let h: usize = 0; h < 2; h++) {
    idct4Pass(dqRow(src, q, 0, h), dqRow(src, q, 1, h), dqRow(src, q, 2, h), dqRow(src, q, 3, h), dqRow(src, q, 5, h), dqRow(src, q, 6, h), dqRow(src, q, 7, h), 12, DWS + (h << 4));
  }
  // rows: transposed, each vector holds one column of the 4 rows
  transpose4(DWS, DWS);
  transpose4(DWS + 16, DWS + 16);
  idct4Pass(
    v128.load(DWS), v128.load(DWS, 32), v128.load(DWS, 64), v128.load(DWS, 96),
    v128.load(DWS, 48), v128.load(DWS, 80), v128.load(DWS, 112), 19, DWS + 128,
  );
}

// libjpeg's range limit (see idctRange) of one value.
@inline
function rangeLimit(x: i32): u8 {
  const y = ((x + 512) & 1023) - 384;
  return <u8>(y < 0 ? 0 : y > 255 ? 255 : y);
}

// jpeg_idct_2x2 of the block at `src` with `q` into 2x2 bytes at out (row stride `stride`).
function idct2(src: usize, q: usize, out: usize, stride: usize, nz: i32): void {
  if (!nz) {
    const v = rangeLimit(dcOnly(src, q));
    for (let r: usize = 0; r < 2; r++) {
      store<u8>(out + r * stride, v);
      store<u8>(out + r * stride, v, 1);
    }
    return;
  }
  // columns (two halves of 4): rows 0, 1, 3, 5, 7 -> 2 rows at DWS, DWS + 32
  const bias = i32x4.splat(1 << 12);
  for (let h: usize = 0; h < 2; h++) {
    const tmp10 = i32x4.add(i32x4.shl(dqRow(src, q, 0, h), 15), bias);
    const t0 = i32x4.add(
      i32x4.add(i32x4.mul(dqRow(src, q, 7, h), i32x4.splat(-5906)), i32x4.mul(dqRow(src, q, 5, h), i32x4.splat(6967))),
      i32x4.add(i32x4.mul(dqRow(src, q, 3, h), i32x4.splat(-10426)), i32x4.mul(dqRow(src, q, 1, h), i32x4.splat(29692))),
    );
    v128.store(DWS + (h << 4), i32x4.shr_s(i32x4.add(tmp10, t0), 13));
    v128.store(DWS + (h << 4), i32x4.shr_s(i32x4.sub(tmp10, t0), 13), 32);
  }
  // rows (64-bit, as libjpeg's JLONG on 64-bit hosts)
  for (let r: usize = 0; r < 2; r++) {
    const w = DWS + (r << 5);
    const tmp10 = <i64>load<i32>(w) << 15;
    const t0 = <i64>load<i32>(w, 28) * -5906 + <i64>load<i32>(w, 20) * 6967 +
      <i64>load<i32>(w, 12) * -10426 + <i64>load<i32>(w, 4) * 29692;
    store<u8>(out + r * stride, rangeLimit(<i32>((tmp10 + t0 + (1 << 19)) >> 20)));
    store<u8>(out + r * stride, rangeLimit(<i32>((tmp10 - t0 + (1 << 19)) >> 20)), 1);
  }
}

// The inverse DCT of the block at `src` at 8 >> shift samples a side: 8x8 (islow), 4x4,
// 2x2 (jidctred) or 1x1 (the DC term), into out (row stride `stride`).
@inline
function idctScaled(src: usize, q: usize, out: usize, stride: usize, nz: i32, shift: i32): void {
  if (shift == 0) idct(src, q, out, stride, nz);
  else if (shift == 1) idct4(src, q, out, stride, nz);
  else if (shift == 2) idct2(src, q, out, stride, nz);
  else store<u8>(out, dcSample(load<i16>(src), load<i32>(q)));
}

// The one sample of a block decoded at 1/8 scale: its dequantized DC term
// descaled by 3 bits, level-shifted and range-limited as in idctRange (the value
// every sample of a DC-only block gets at full scale).
@inline
function dcSample(coef: i16, q: i32): u8 {
  const x = (((<i32>coef * q + 4) >> 3) + 512 & 1023) - 384;
  return <u8>(x < 0 ? 0 : x > 255 ? 255 : x);
}

/**
 * Decodes the entropy-coded data of one baseline scan into component planes.
 * `p` points to i32 parameters: [0] data start, [1] data end (end of file),
 * [2] MCUs per row, [3] MCU rows, [4] restart interval (0: none), [5]
 * components; then per component at p + 32 + 48 * c: plane, row stride,
 * H, V, quant table (64 i32), DC table, AC table, DC predictor (scratch),
 * and the size of its blocks in the plane as a shift (libjpeg's
 * DCT_scaled_size 8 >> shift): 0, 8x8 samples (full size); 1 or 2, 4x4 or
 * 2x2 (jidctred's reduced IDCTs); 3, one sample (the DC term: its 1x1 IDCT).
 * Returns the offset of the marker after the scan (or the data's end). Damaged
 * data decodes as libjpeg-turbo's jdhuff.c decodes it, and [6] (p + 24) gets
 * what was forgiven (dWarn's bits; 0 for clean data): a bad Huffman code
 * gives a zero symbol; where the data stops early (a marker or the end) the
 * rest of the restart interval is left zero (flat gray blocks); at each
 * restart the next marker is looked for and, if it is not the RSTn
 * expected, jpeg_resync_to_restart's choice is made.
 */
export function jpegDecodeScan(p: usize): i32 {
  dPos = <usize>load<i32>(p);
  dLimit = <usize>load<i32>(p, 4);
  dEnd = dLimit;
  dBuf = 0;
  dCnt = 0;
  dPad = 0;
  dWarn = 0;
  const mcusX = load<i32>(p, 8), mcusY = load<i32>(p, 12);
  const interval = load<i32>(p, 16), nComp = load<i32>(p, 20);
  let left = interval;
  let rst = 0;
  // libjpeg's insufficient_data: the data stopped; the interval's remaining MCUs stay zero
  let short = false;
  for (let c = 0; c < nComp; c++) store<i32>(p + 32 + <usize>c * 48, 0, 28);
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      if (interval) {
        if (left == 0) {
          // libjpeg resets insufficient_data unless left up against a marker
          if (dRestartAt(rst)) short = false;
          rst++;
          left = interval;
          for (let c = 0; c < nComp; c++) store<i32>(p + 32 + <usize>c * 48, 0, 28);
        }
        left--;
      }
      for (let c = 0; c < nComp; c++) {
        const cp = p + 32 + <usize>c * 48;
        const plane = <usize>load<i32>(cp), stride = <usize>load<i32>(cp, 4);
        const h = load<i32>(cp, 8), v = load<i32>(cp, 12);
        const q = <usize>load<i32>(cp, 16), dc = <usize>load<i32>(cp, 20), ac = <usize>load<i32>(cp, 24);
        const shift = load<i32>(cp, 32);
        const n = 8 >> shift;
        for (let by = 0; by < v; by++) {
          const row = plane + <usize>((my * v + by) * n) * stride;
          for (let bx = 0; bx < h; bx++) {
            // every coefficient is decoded (the bit stream), whatever the size
            const nz = short ? dZeroBlock() : dBlock(dc, ac, cp + 28);
            idctScaled(DBLOCK, q, row + <usize>((mx * h + bx) * n), stride, nz, shift);
          }
        }
      }
      // this MCU read past the data (zeros fed after a marker or the end)
      if (dCnt < dPad && !short) {
        short = true;
        dWarn |= 2;
      }
    }
  }
  store<i32>(p, dScanEnd(short), 24);
  return <i32>dPos;
}

// At a scan's end: it should end on a byte boundary right before a marker
// (or the data's end, which the caller reports), using no fed zeros; else a
// warning (unless the data already stopped early), and dPos goes to the next
// marker's FF (libjpeg's next_marker). Returns dWarn.
function dScanEnd(short: bool): i32 {
  if (dCnt < dPad || dCnt - dPad >= 8 || (dPos < dLimit && load<u8>(dPos) != 0xff)) {
    if (!short) dWarn |= 8;
    const m = dNextMarker(dPos);
    dPos = m < 0 ? dLimit : <usize>m - 1;
  }
  return dWarn;
}

// An all-zero block in DBLOCK (what libjpeg leaves for an MCU past the data's end).
function dZeroBlock(): i32 {
  clearBlock();
  return 0;
}

// libjpeg's next_marker from `pos`: skips bytes up to an FF, the FFs, and
// stuffed FF 00 pairs; the offset of the marker's code byte, or -1 at the
// data's end.
function dNextMarker(pos: usize): i32 {
  while (true) {
    while (pos < dLimit && load<u8>(pos) != 0xff) pos++;
    while (pos < dLimit && load<u8>(pos) == 0xff) pos++;
    if (pos >= dLimit) return -1;
    if (load<u8>(pos) != 0) return <i32>pos;
    pos++;
  }
}

// A restart before the n-th RSTn (libjpeg's process_restart,
// read_restart_marker and jpeg_resync_to_restart): finds the next marker and
// leaves dPos after it; if it is not RSTn (n & 7), a warning, and like
// libjpeg: a marker before SOF0, or RSTn-1 or -2, is skipped to the next;
// RSTn+1 or +2, or any other marker, is left for later (dPos on its FF: the
// next MCU reads zeros, then the rest of the interval stays zero); any other
// RSTm is taken as the one expected. Returns true when the reader is past an
// RST marker (libjpeg then resets insufficient_data), false when it was left.
// Restart before the n-th RSTn: the interval's bits should all be used and
// RSTn next (else a warning); dRestart, then the bit reader starts afresh.
function dRestartAt(n: i32): bool {
  if (dCnt < dPad || dCnt - dPad >= 8 || dPos >= dLimit || load<u8>(dPos) != 0xff) dWarn |= 8;
  const past = dRestart(n);
  dBuf = 0;
  dCnt = 0;
  dPad = 0;
  dEnd = dLimit;
  return past;
}

function dRestart(n: i32): bool {
  let at = dNextMarker(dPos);
  let m = at < 0 ? 0xd9 : <i32>load<u8>(at); // the source's fake EOI at the end
  const want = 0xd0 + (n & 7);
  if (m == want) {
    dPos = <usize>at + 1;
    return true;
  }
  dWarn |= 4;
  while (true) {
    let action = 1;
    if (m < 0xc0) action = 2;
    else if (m < 0xd0 || m > 0xd7) action = 3;
    else if (m == 0xd0 + ((n + 1) & 7) || m == 0xd0 + ((n + 2) & 7)) action = 3;
    else if (m == 0xd0 + ((n - 1) & 7) || m == 0xd0 + ((n - 2) & 7)) action = 2;
    if (action == 1) {
      dPos = <usize>at + 1;
      return true;
    }
    if (action == 3) {
      dPos = at < 0 ? dLimit : <usize>at - 1;
      return false;
    }
    at = dNextMarker(<usize>at + 1);
    m = at < 0 ? 0xd9 : <i32>load<u8>(at);
  }
}

// Horizontal fancy upsampling (2x) of the i16 row `src` whose valid samples
// are src[1..n] with src[0] and src[n + 1] replicating the edges:
// out[2i] = (3 c + left + b0) >> sh, out[2i+1] = (3 c + right + b1) >> sh.
function upsampleRow(src: usize, n: i32, out: usize, b0: i32, b1: i32, sh: i32): void {
  const three = i16x8.splat(3), v0 = i16x8.splat(<i16>b0), v1 = i16x8.splat(<i16>b1);
  for (let x = 0; x < n; x += 8) {
    const s = src + (<usize>x << 1);
    const c3 = i16x8.mul(v128.load(s, 2), three);
    const e = i16x8.shr_s(i16x8.add(i16x8.add(c3, v128.load(s)), v0), sh);
    const o = i16x8.shr_s(i16x8.add(i16x8.add(c3, v128.load(s, 4)), v1), sh);
    const lo = i8x16.shuffle(e, o, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const hi = i8x16.shuffle(e, o, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    v128.store(out + (<usize>x << 1), i8x16.narrow_i16x8_u(lo, hi));
  }
}

// Fills the i16 row at `dst` (see upsampleRow) from u8 rows: a * 3 + b (h2v2's
// vertical step) or a alone (h2v1, when b == 0).
function chromaSums(a: usize, b: usize, n: i32, dst: usize): void {
  const three = i16x8.splat(3);
  for (let x = 0; x < n; x += 8) {
    let s = i16x8.extend_low_i8x16_u(v128.load64_zero(a + <usize>x));
    if (b) s = i16x8.add(i16x8.mul(s, three), i16x8.extend_low_i8x16_u(v128.load64_zero(b + <usize>x)));
    v128.store(dst + 2 + (<usize>x << 1), s);
  }
  store<i16>(dst, load<i16>(dst, 2));
  store<i16>(dst + (<usize>(n + 1) << 1), load<i16>(dst + (<usize>n << 1)));
}

// Plain (not fancy) horizontal 2x upsampling of the u8 row src (n samples):
// each sample twice, as libjpeg's h2v1_upsample (used at 1/8 scale).
function duplicateRow(src: usize, n: i32, out: usize): void {
  for (let x = 0; x < n; x += 16) {
    const v = v128.load(src + <usize>x);
    v128.store(out + (<usize>x << 1), i8x16.shuffle(v, v, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7));
    v128.store(out + (<usize>x << 1), i8x16.shuffle(v, v, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15), 16);
  }
}

// Writes n RGBA pixels from Y, Cb, Cr rows with libjpeg's fixed point
// YCbCr -> RGB (16-bit tables with rounding, then clamped), rewritten exactly
// over Cb, Cr - 128 in -128..127: R = Y + Cr + q15mulr(Cr, 13172),
// B = Y + 2 Cb + q15mulr(Cb, -7471) (both checked for every input),
// G = Y - Cr + ((-22554 Cb + 18734 Cr + 32768) >> 16).
function yccRow(yr: usize, cbr: usize, crr: usize, n: i32, out: usize): void {
  const c128 = i16x8.splat(128), half = i32x4.splat(32768);
  const kr = i16x8.splat(13172), kb = i16x8.splat(-7471);
  const kg = i16x8(-22554, 18734, -22554, 18734, -22554, 18734, -22554, 18734);
  const alpha = i16x8.splat(255);
  for (let x = 0; x < n; x += 8) {
    const xo = <usize>x;
    const y = i16x8.extend_low_i8x16_u(v128.load64_zero(yr + xo));
    const cb = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(cbr + xo)), c128);
    const cr = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(crr + xo)), c128);
    const r16 = i16x8.add(i16x8.add(y, cr), i16x8.q15mulr_sat_s(cr, kr));
    const b16 = i16x8.add(i16x8.add(y, i16x8.shl(cb, 1)), i16x8.q15mulr_sat_s(cb, kb));
    const pl = i8x16.shuffle(cb, cr, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const ph = i8x16.shuffle(cb, cr, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    const gl = i32x4.shr_s(i32x4.add(i32x4.dot_i16x8_s(pl, kg), half), 16);
    const gh = i32x4.shr_s(i32x4.add(i32x4.dot_i16x8_s(ph, kg), half), 16);
    const g16 = i16x8.sub(i16x8.add(y, i16x8.narrow_i32x4_s(gl, gh)), cr);
    const rg = i8x16.narrow_i16x8_u(r16, g16); // r0..r7 g0..g7
    const ba = i8x16.narrow_i16x8_u(b16, alpha); // b0..b7 then 255s
    const lo = i8x16.shuffle(rg, ba, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
    const hi = i8x16.shuffle(rg, ba, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31);
    v128.store(out + (xo << 2), lo);
    v128.store(out + (xo << 2), hi, 16);
  }
}

/**
 * Colour conversion of decoded planes to w x h RGBA at `out`. `mode`: 0 gray
 * (Y only), 1 YCbCr 4:4:4, 2 4:2:2 (h2v1), 3 4:2:0 (h2v2); chroma is
 * upsampled like libjpeg's fancy upsampling; 4: 4:2:2 upsampled plainly
 * (each chroma sample twice, as libjpeg does at 1/8 scale). `tmp` is scratch of at least
 * 8 * w + 256 bytes. Writes up to 28 bytes past the end of `out`.
 */
export function jpegToRgba(yp: usize, ys: i32, cbp: usize, crp: usize, cs: i32, w: i32, h: i32, mode: i32, out: usize, tmp: usize): void {
  const rowBytes = <usize>w << 2;
  if (mode == 0) {
    const alpha = i8x16.splat(-1);
    for (let y = 0; y < h; y++) {
      const s = yp + <usize>y * <usize>ys;
      const d = out + <usize>y * rowBytes;
      for (let x = 0; x < w; x += 8) {
        const v = v128.load64_zero(s + <usize>x);
        v128.store(d + (<usize>x << 2), i8x16.shuffle(v, alpha, 0, 0, 0, 16, 1, 1, 1, 16, 2, 2, 2, 16, 3, 3, 3, 16));
        v128.store(d + (<usize>x << 2), i8x16.shuffle(v, alpha, 4, 4, 4, 16, 5, 5, 5, 16, 6, 6, 6, 16, 7, 7, 7, 16), 16);
      }
    }
    return;
  }
  const cw = (w + 1) >> 1, ch = (h + 1) >> 1;
  const sums = tmp; // i16 row, cw + 2 (+ slack)
  const upCb = tmp + ((<usize>w << 1) + 64 & ~15);
  const upCr = upCb + (<usize>w + 64 & ~15);
  for (let y = 0; y < h; y++) {
    const yr = yp + <usize>y * <usize>ys;
    let cbr = cbp, crr = crp;
    if (mode == 1) {
      cbr += <usize>y * <usize>cs;
      crr += <usize>y * <usize>cs;
    } else if (mode == 4) {
      const o = <usize>y * <usize>cs;
      duplicateRow(cbp + o, cw, upCb);
      duplicateRow(crp + o, cw, upCr);
      cbr = upCb;
      crr = upCr;
    } else if (mode == 2) {
      const o = <usize>y * <usize>cs;
      chromaSums(cbp + o, 0, cw, sums);
      upsampleRow(sums, cw, upCb, 1, 2, 2);
      chromaSums(crp + o, 0, cw, sums);
      upsampleRow(sums, cw, upCr, 1, 2, 2);
      cbr = upCb;
      crr = upCr;
    } else {
      const cy = y >> 1;
      const far = y & 1 ? min(cy + 1, ch - 1) : max(cy - 1, 0);
      const oNear = <usize>cy * <usize>cs, oFar = <usize>far * <usize>cs;
      chromaSums(cbp + oNear, cbp + oFar, cw, sums);
      upsampleRow(sums, cw, upCb, 8, 7, 4);
      chromaSums(crp + oNear, crp + oFar, cw, sums);
      upsampleRow(sums, cw, upCr, 8, 7, 4);
      cbr = upCb;
      crr = upCr;
    }
    yccRow(yr, cbr, crr, w, out + <usize>y * rowBytes);
  }
}

// ---------------------------------------------------------------------------
// Progressive JPEG decoding (SOF2): each scan adds to buffers of all the
// image's coefficients, as libjpeg's jdphuff.c does; then every block goes
// through the same IDCT as above. Per component and block: the DC term (i16,
// in an array of its own, so DC scans stay in cache), the 63 AC terms (64
// i16, natural order; slot 0 unused) and a mask of the nonzero AC terms (u64,
// bit k: zigzag index k), so refinement scans visit only the nonzero terms
// and blocks without any never touch their coefficients.
// ---------------------------------------------------------------------------

// Blocks left in the current end-of-band run.
let eobRun: i32 = 0;

// The next n (0..16) bits as an unsigned value.
@inline
function dBits(n: i32): i32 {
  if (dCnt < 32) dFill();
  const v = n ? <i32>(dBuf >> <u64>(64 - n)) : 0;
  dBuf <<= <u64>n;
  dCnt -= n;
  return v;
}

// DC first scan for one block: pred += diff; dc = pred << al.
@inline
function progDcFirst(dcp: usize, dc: usize, pred: usize, al: i32): void {
  if (dCnt < 32) dFill();
  let p = load<i32>(pred);
  const f = load<i32>(dc + HUFF_FAST + (<usize>(dBuf >> <u64>(64 - HUFF_BITS)) << 2));
  if (f) {
    const l = f & 15;
    dBuf <<= <u64>l;
    dCnt -= l;
    p += f >> 8;
  } else {
    const s = dHuff(dc);
    if (s) p += extend(dBits(s), s);
  }
  store<i32>(pred, p);
  store<i16>(dcp, <i16>(p << al));
}

// Clears the AC terms of a block on its first nonzero term (mask still 0),
// so the buffer needs no clearing beforehand.
@inline
function firstTouch(blk: usize, m: u64): void {
  // no loop: a loop inside progAcRefine's symbol loop makes V8 spill that
  // loop's state
  if (m == 0) zero128(blk);
}

// AC first scan (one band ss..se) for one block; `mp`: its nonzero mask.
// The bit buffer lives in locals, written back around the slow calls.
@inline
function progAcFirst(blk: usize, mp: usize, ac: usize, ss: i32, se: i32, al: i32): void {
  if (eobRun > 0) {
    eobRun--;
    return;
  }
  let m = load<u64>(mp);
  const fast = ac + HUFF_FAST;
  let buf = dBuf, cnt = dCnt;
  for (let k = ss; k <= se; k++) {
    if (cnt < 32) {
      dBuf = buf;
      dCnt = cnt;
      dFill();
      buf = dBuf;
      cnt = dCnt;
    }
    const f = load<i32>(fast + (<usize>(buf >> <u64>(64 - HUFF_BITS)) << 2));
    let v: i32;
    if (f) {
      // a whole coefficient, EOBr (runs 0..14) or ZRL (run 15)
      const l = f & 15;
      buf <<= <u64>l;
      cnt -= l;
      v = f >> 8;
      const r = (f >> 4) & 15;
      if (v == 0) {
        if (r == 15) {
          k += 15;
          continue;
        }
        eobRun = (1 << r) - 1;
        if (r) {
          eobRun += <i32>(buf >> <u64>(64 - r));
          buf <<= <u64>r;
          cnt -= r;
        }
        break;
      }
      k += r;
    } else {
      dBuf = buf;
      dCnt = cnt;
      const rs = dHuff(ac);
      buf = dBuf;
      cnt = dCnt;
      const r = rs >> 4, s = rs & 15;
      if (!s) {
        if (r == 15) {
          k += 15;
          continue;
        }
        eobRun = (1 << r) - 1;
        if (r) {
          eobRun += <i32>(buf >> <u64>(64 - r));
          buf <<= <u64>r;
          cnt -= r;
        }
        break;
      }
      k += r;
      v = extend(<i32>(buf >> <u64>(64 - s)), s);
      buf <<= <u64>s;
      cnt -= s;
    }
    if (k > se) {
      // past the band (corrupt data): libjpeg writes it at natural_order[k]
      // (63 beyond the block's end) and ends the band
      dWarn |= 1;
      k = min(k, 63);
      const c = <i16>(v << al);
      if (c) {
        firstTouch(blk, m);
        store<i16>(blk + (<usize>load<u8>(ZIGZAG + k) << 1), c);
        m |= <u64>1 << <u64>k;
      }
      break;
    }
    const c = <i16>(v << al);
    if (c) {
      firstTouch(blk, m);
      store<i16>(blk + (<usize>load<u8>(ZIGZAG + k) << 1), c);
      m |= <u64>1 << <u64>k;
    }
  }
  dBuf = buf;
  dCnt = cnt;
  store<u64>(mp, m);
}

// Bits k.. of a u64 (none for k >= 64).
@inline
function bitsFrom(k: i32): u64 {
  return k >= 64 ? 0 : <u64>-1 << <u64>k;
}

// Bits below t (all for t >= 64).
@inline
function bitsBelow(t: i32): u64 {
  return t >= 64 ? <u64>-1 : (<u64>1 << <u64>t) - 1;
}

// One correction bit for the nonzero term at c: when set (and the term
// still lacks that bit), |term| += p1. Branch-free: the bits are random.
@inline
function refineCoef(c: usize, bit: i32, p1: i32): void {
  const v = <i32>load<i16>(c);
  const sgn = v >> 31;
  const apply = bit & <i32>((v & p1) == 0);
  store<i16>(c, <i16>(v + (((p1 ^ sgn) - sgn) & -apply)));
}

// `acc` followed by the next n (0..63) bits (the bit buffer in the globals),
// refilling as often as need be.
function accBits(acc: u64, n: i32): u64 {
  while (n > 0) {
    const c = min(n, 32);
    if (dCnt < c) dFill();
    acc = (acc << <u64>c) | (dBuf >> <u64>(64 - c));
    dBuf <<= <u64>c;
    dCnt -= c;
    n -= c;
  }
  return acc;
}

// The AC table of the current refinement scan, for its fast path: per next
// HUFF_BITS bits, (value << 16) | (length << 8) | (eob << 4) | run, where the
// code and its sign bit fit in them and the symbol is a new term of one bit
// (value +-(1 << Al)), ZRL (value 0, run 15) or EOBr (eob 1, runs 0..14,
// whose r more bits are not counted); REFINE_SLOW for anything else (the
// slow path's).
const REFINE_FAST = memory.data(4 << HUFF_BITS, 16);
// A REFINE_FAST entry of length 127: more bits than the buffer ever holds.
const REFINE_SLOW = 127 << 8;
// SELECT16[b * 16 + n]: the position of the n-th (from 0) set bit of the
// byte b, 8 if none (n = 0..15: a run's length indexes it), filled once.
const SELECT16 = memory.data(4096, 16);
let select16Filled = false;

// Fills REFINE_FAST from the HUFF_FAST part of AC table `ac`, for Al `al`
// (and SELECT16 the first time).
function refineTable(ac: usize, al: i32): void {
  for (let i: usize = 0; i < (1 << HUFF_BITS); i++) {
    const f = load<i32>(ac + HUFF_FAST + (i << 2));
    const v = f >> 8, r = (f >> 4) & 15;
    // anything else: a length no buffer holds, so the fast path's one test
    // (the bits it needs against those it has) sends it to the slow path
    let e = REFINE_SLOW;
    if (f != 0 && <u32>(v + 1) <= 2) e = ((v << al) << 16) | ((f & 15) << 8) | (v == 0 && r != 15 ? 0x10 : 0) | r;
    store<i32>(REFINE_FAST + (i << 2), e);
  }
  if (!select16Filled) {
    for (let b = 0; b < 256; b++) {
      for (let n = 0; n < 16; n++) {
        let z = b, i = 0;
        while (i < n && z) {
          z &= z - 1;
          i++;
        }
        store<u8>(SELECT16 + <usize>(b * 16 + n), z ? ctz(z) : 8);
      }
    }
    select16Filled = true;
  }
}

// What runEnd gives where zs has too few set bits: past any band, and more
// than the bit buffer holds once the run is taken off (so that the fast
// path's test of the bits it needs fails on it as well).
const RUN_PAST = 128;

// Where the run of r zero terms from k ends: the (r + 1)-th set bit of zs
// (the zero terms from k, shifted down to bit 0), mostly among the next 8
// (one table look-up); RUN_PAST (>= 64) if zs has too few.
@inline
function runEnd(zs: u64, r: i32): i32 {
  const d = <i32>load<u8>(SELECT16 + ((<usize>zs & 0xff) << 4) + <usize>r);
  return d < 8 ? d : runEndFar(zs, r);
}

// runEnd beyond the next 8 terms, byte by byte (a call of its own: the
// caller's loop keeps its values in registers around it).
function runEndFar(zs: u64, r: i32): i32 {
  let z = zs, n = r, d = 0;
  while (z) {
    const c = <i32>popcnt(z & 0xff);
    if (n < c) return d + <i32>load<u8>(SELECT16 + ((<usize>z & 0xff) << 4) + <usize>n);
    n -= c;
    z >>= 8;
    d += 8;
  }
  return RUN_PAST;
}

// Stores the new term `val` at zigzag index `at` of the block, its first
// term clearing it; returns the mask `m` with it.
@inline
function newTerm(blk: usize, m: u64, at: i32, val: i32): u64 {
  firstTouch(blk, m);
  store<i16>(blk + (<usize>load<u8>(ZIGZAG + at) << 1), <i16>val);
  return m | (<u64>1 << <u64>at);
}

// What refineSlow leaves: the correction bits, the mask, the run's end.
let rAcc: u64 = 0;
let rMask: u64 = 0;
let rEnd: i32 = 0;

// The n (0..25) bits at the top of the bit buffer (the globals), without a refill.
@inline
function dTake(n: i32): i32 {
  const v = n ? <i32>(dBuf >> <u64>(64 - n)) : 0;
  dBuf <<= <u64>n;
  dCnt -= n;
  return v;
}

// One symbol of progAcRefine's loop, its slow path (the bit buffer in the
// globals; `todo`: the terms that take a correction bit, `m` the block's
// mask): rAcc and rMask get acc and m after it, rEnd the run's end from k.
// Returns 0, or 1 at the end of band, 2 where the band has too few zero
// terms (corrupt data).
function refineSlow(blk: usize, todo: u64, ac: usize, k: i32, se: i32, al: i32, zs: u64, acc: u64, m: u64): i32 {
  const p1 = 1 << al;
  rAcc = acc;
  rMask = m;
  if (dCnt < 32) dFill();
  let f = load<i32>(ac + HUFF_FAST + (<usize>(dBuf >> <u64>(64 - HUFF_BITS)) << 2));
  // a new term of more than one bit (corrupt data): dHuff's
  if (<u32>((f >> 8) + 1) > 2) f = 0;
  let r: i32, val = 0;
  if (f) {
    // code and sign bit at once, or EOBr, or ZRL
    dTake(f & 15);
    r = (f >> 4) & 15;
    const v = f >> 8;
    if (v == 0) {
      if (r != 15) {
        eobRun = (1 << r) + dTake(r);
        return 1;
      }
    } else {
      val = v << al; // v is 1 or -1 here
    }
  } else {
    const rs = dHuff(ac);
    if (dCnt < 32) dFill();
    r = rs >> 4;
    const s = rs & 15;
    if (s) {
      // a new term is one bit; libjpeg warns about any other size and
      // reads its sign bit all the same
      if (s != 1) dWarn |= 1;
      val = dTake(1) ? p1 : -p1;
    } else if (r != 15) {
      eobRun = (1 << r) + dTake(r);
      return 1;
    }
  }
  const d = runEnd(zs, r);
  if (d >= 64) {
    // the band has too few zero terms (corrupt data): all the correction
    // bits left are read; libjpeg writes a new term at natural_order[Se
    // + 1] (63 beyond the block's end) and the band ends; a warning here
    // (libjpeg gives none), as before
    rAcc = accBits(acc, <i32>popcnt(todo & bitsFrom(k)));
    if (val) {
      dWarn |= 1;
      rMask = newTerm(blk, m, min(se + 1, 63), val);
    }
    return 2;
  }
  rAcc = accBits(acc, d - r);
  if (val) rMask = newTerm(blk, m, k + d, val);
  rEnd = d;
  return 0;
}

// AC refinement scan (one band ss..se) for one block, as jdphuff.c's
// decode_mcu_AC_refine (its tolerance of corrupt data included), on the
// nonzero mask: a run of r zeros ends at the (r + 1)-th zero term from k.
// The zero terms from k on are kept shifted down to bit 0 (zs), so that a
// symbol's run is one byte look-up away from the previous one (SELECT16 on
// zs's low byte and the run, then it shifts on).
// Each term nonzero before the scan takes one correction bit, in order,
// wherever it comes in the stream (with the run that passes it, or after
// the end of band): they are gathered into one word as they come, without
// a branch or a loop per symbol, and applied once at the block's end (a
// new term's own bit is set, so a correction never changes it).
// The symbol loop has a fast path without calls or inner loops (REFINE_FAST,
// the bit buffer in locals, the 4-byte refill inline, the block's mask in
// memory): a symbol whose code is in the table, whose run ends in the band
// and whose bits are all in the buffer, which one test of the bits it needs
// against those left tells (a table entry for anything else and a run
// past the band need more than any buffer holds); anything else (a longer
// code, corrupt data, stuffing or a marker in the next bytes) leaves that
// loop for the slow path (refineSlow), which decodes that one symbol as
// before. With fewer values live, V8 spills less of the loop's state to
// the stack.
@inline
function progAcRefine(blk: usize, mp: usize, ac: usize, ss: i32, se: i32, al: i32): void {
  const p1 = 1 << al;
  const band = bitsFrom(ss) & bitsBelow(se + 1);
  const m = load<u64>(mp);
  // the terms that take a correction bit (those of band nonzero before the scan)
  const todo = m & band;
  // their bits so far, the first highest
  let acc: u64 = 0;
  let k = ss;
  let zs = (band & ~m) >> <u64>ss;
  let buf = dBuf, cnt = dCnt;
  // the fast path's loop inside, the slow path's outside: no call on the
  // fast path's loop
  while (true) {
    let slow = false;
    while (k <= se) {
      if (cnt < 32) {
        // 4 bytes without 0xFF (the load may read past dEnd, into the
        // slack); else the slow path's dFill (stuffing, a marker, the end:
        // the buffer then reads ahead as far as libjpeg's, which the
        // warnings at the scan's end and at restart markers follow)
        const pos = dPos;
        const w = load<u32>(pos);
        const inv = ~w;
        if (pos + 4 > dEnd || ((inv - 0x01010101) & ~inv & 0x80808080) != 0) {
          slow = true;
          break;
        }
        buf |= <u64>bswap<u32>(w) << <u64>(32 - cnt);
        cnt += 32;
        dPos = pos + 4;
      }
      const e = load<i32>(REFINE_FAST + (<usize>(buf >> <u64>(64 - HUFF_BITS)) << 2));
      const r = e & 15, l = e >> 8 & 127;
      if (e & 0x10) {
        // EOBr: l + r <= 25 bits (cnt >= 32 here)
        buf <<= <u64>l;
        cnt -= l;
        eobRun = 1 << r;
        if (r) {
          eobRun += <i32>(buf >> <u64>(64 - r));
          buf <<= <u64>r;
          cnt -= r;
        }
        break;
      }
      const d = runEnd(zs, r);
      // the correction bits of the terms passed: every term up to the
      // run's end but its r zeros is a term to correct. One test: the code,
      // its sign bit and those bits all in the buffer (false for the table's
      // REFINE_SLOW and for a run past the band's zero terms, RUN_PAST)
      const n = d - r;
      if (l + n > cnt) {
        slow = true;
        break;
      }
      const b = buf << <u64>l;
      acc = (acc << <u64>n) | ((b >> 1) >> <u64>(63 - n));
      buf = b << <u64>n;
      cnt -= l + n;
      const val = e >> 16;
      // (the new terms' mask in memory: one value fewer in the loop)
      if (val) store<u64>(mp, newTerm(blk, load<u64>(mp), k + d, val));
      // past the run and its zero term (d + 1 <= 63: k >= 1)
      zs >>= <u64>(d + 1);
      k += d + 1;
    }
    if (!slow) break;
    // the slow path: this symbol as the fast path's checks left it
    dBuf = buf;
    dCnt = cnt;
    const done = refineSlow(blk, todo, ac, k, se, al, zs, acc, load<u64>(mp));
    buf = dBuf;
    cnt = dCnt;
    acc = rAcc;
    store<u64>(mp, rMask);
    if (done) {
      if (done == 2) k = se + 1;
      break;
    }
    const d = rEnd;
    zs >>= <u64>(d + 1);
    k += d + 1;
  }
  dBuf = buf;
  dCnt = cnt;
  if (eobRun > 0) {
    // after the end of band: the rest of the terms' correction bits
    acc = accBits(acc, <i32>popcnt(todo & bitsFrom(k)));
    eobRun--;
  }
  // every term of todo has its bit now (in w from the top; the loop ends
  // with the last bit set)
  if (acc) {
    let w = acc << <u64>(64 - <i32>popcnt(todo));
    let bits = todo;
    while (w) {
      const c = blk + (<usize>load<u8>(ZIGZAG + <usize>ctz(bits)) << 1);
      bits &= bits - 1;
      refineCoef(c, <i32>(w >> 63), p1);
      w <<= 1;
    }
  }
}

// A block inside an end-of-band run of a refinement scan: one correction bit
// for each nonzero term of `bits` (zigzag order), read up to 32 at a time.
function refineRun(blk: usize, bits: u64, p1: i32): void {
  let buf = dBuf, cnt = dCnt;
  while (bits) {
    const n = min(<i32>popcnt(bits), 32);
    if (cnt < n) {
      dBuf = buf;
      dCnt = cnt;
      dFill();
      buf = dBuf;
      cnt = dCnt;
    }
    let w = buf;
    buf <<= <u64>n;
    cnt -= n;
    for (let i = 0; i < n; i++) {
      const c = blk + (<usize>load<u8>(ZIGZAG + <usize>ctz(bits)) << 1);
      bits &= bits - 1;
      refineCoef(c, <i32>(w >> 63), p1);
      w <<= 1;
    }
  }
  dBuf = buf;
  dCnt = cnt;
}

// At a restart interval's end: dRestartAt (RSTn, n = rst & 7, or libjpeg's
// resynchronisation), and the DC predictors of the scan's `nComp` components
// and the EOB run reset. Returns dRestartAt's answer.
function progRestart(p: usize, nComp: i32, rst: i32): bool {
  const past = dRestartAt(rst);
  eobRun = 0;
  for (let c = 0; c < nComp; c++) store<i32>(p + 48 + <usize>c * 48, 0, 24);
  return past;
}

// The blocks of a one-component AC scan, first (`kind` 2) or refinement (3)
// (see jpegProgScan; constant in each caller, so each gets its own loop);
// returns whether the data stopped early (libjpeg's insufficient_data) in
// the last restart interval.
@inline
function progBlocks(p: usize, kind: i32): bool {
  let short = false;
  const interval = load<i32>(p, 8);
  const ss = load<i32>(p, 12), se = load<i32>(p, 16), al = load<i32>(p, 24);
  const mcusX = load<i32>(p, 32), mcusY = load<i32>(p, 36);
  let left = interval;
  let rst = 0;
  // one component: MCU = one block, in the component's own raster order
  const cp = p + 48;
  const coef = <usize>load<i32>(cp), bpr = load<i32>(cp, 4);
  const ac = <usize>load<i32>(cp, 20), masks = <usize>load<i32>(cp, 32);
  const band = bitsFrom(ss) & bitsBelow(se + 1);
  if (kind == 3) refineTable(ac, al);
  for (let by = 0; by < mcusY; by++) {
    if (by) idctRowInScan(p, by - 1);
    for (let bx = 0; bx < mcusX; bx++) {
      // the previous block read past the data (zeros fed)
      if (dCnt < dPad && !short) {
        short = true;
        dWarn |= 2;
      }
      if (interval) {
        if (left == 0) {
          if (progRestart(p, 1, rst)) short = false;
          rst++;
          left = interval;
        }
        left--;
      }
      if (short) continue;
      const bi = <usize>(by * bpr + bx);
      if (eobRun > 0) {
        // inside an end-of-band run: nothing to read in a first scan, the
        // correction bits of the nonzero terms in a refinement scan
        if (kind == 3) {
          const bits = load<u64>(masks + (bi << 3)) & band;
          if (bits) refineRun(coef + (bi << 7), bits, 1 << al);
          eobRun--;
        } else {
          // the run's blocks in this row and restart interval at once: no
          // bits read, so the checks above give the same for each of them
          let n = min(eobRun, mcusX - bx);
          if (interval) n = min(n, left + 1);
          eobRun -= n;
          bx += n - 1;
          left -= n - 1;
        }
        continue;
      }
      if (kind == 2) progAcFirst(coef + (bi << 7), masks + (bi << 3), ac, ss, se, al);
      else progAcRefine(coef + (bi << 7), masks + (bi << 3), ac, ss, se, al);
    }
  }
  // the last row, and the plane's rows below the component's (MCU padding)
  for (let by = max(mcusY, 1) - 1; by < load<i32>(p, 248); by++) idctRowInScan(p, by);
  return short;
}

// Where the scan completes its component (jpegProgScan's [58..62]; plane 0:
// not so): the IDCT of block row `by` (all the buffers' blocks per row)
// into the plane, as jpegBlocksToPlane, while the row is in cache.
function idctRowInScan(p: usize, by: i32): void {
  const plane = <usize>load<i32>(p, 232);
  if (!plane) return;
  const cp = p + 48;
  const bpr = load<i32>(cp, 4), stride = load<i32>(p, 240), shift = load<i32>(p, 244);
  const bi = <usize>(by * bpr);
  jpegBlocksToPlane(
    <usize>load<i32>(cp) + (bi << 7), <usize>load<i32>(cp, 28) + (bi << 1), <usize>load<i32>(cp, 32) + (bi << 3),
    bpr, 1, <usize>load<i32>(p, 236), plane + <usize>((by << 3) >> shift) * <usize>stride, stride, shift,
  );
}

// The MCUs of a DC scan, first (`kind` 0) or refinement (1), of any number
// of components (H x V blocks each; 1 x 1 in a one-component scan, whose
// MCUs are its component's blocks), as progBlocks for AC scans. In a
// refinement scan the bit buffer lives in locals, written back around dFill.
@inline
function progDcMcus(p: usize, kind: i32): bool {
  let short = false;
  const interval = load<i32>(p, 8), al = load<i32>(p, 24);
  const nComp = load<i32>(p, 28), mcusX = load<i32>(p, 32), mcusY = load<i32>(p, 36);
  if (!interval && isDc420(p, nComp)) {
    return kind == 0 ? dcFirst420(p, al, mcusX, mcusY) : dcRefine420(p, al, mcusX, mcusY);
  }
  let left = interval;
  let rst = 0;
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      if (interval) {
        if (left == 0) {
          if (progRestart(p, nComp, rst)) short = false;
          rst++;
          left = interval;
        }
        left--;
      }
      if (short) continue;
      let buf = dBuf, cnt = dCnt;
      for (let c = 0; c < nComp; c++) {
        const cp = p + 48 + <usize>c * 48;
        const bpr = load<i32>(cp, 4), h = load<i32>(cp, 8), v = load<i32>(cp, 12);
        const dc = <usize>load<i32>(cp, 16), dcs = <usize>load<i32>(cp, 28);
        for (let by = 0; by < v; by++) {
          const dp = dcs + (<usize>((my * v + by) * bpr + mx * h) << 1);
          for (let bx = 0; bx < h; bx++) {
            const at = dp + (<usize>bx << 1);
            if (kind == 0) progDcFirst(at, dc, cp + 24, al);
            else {
              // one more bit of the term; no branch on it: it is random
              if (cnt < 1) {
                buf = dFillFrom(buf, cnt);
                cnt = dCnt;
              }
              store<i16>(at, <i16>(<i32>load<i16>(at) | (<i32>(buf >> 63) << al)));
              buf <<= 1;
              cnt -= 1;
            }
          }
        }
      }
      if (kind == 1) {
        dBuf = buf;
        dCnt = cnt;
      }
      // this MCU read past the data (zeros fed)
      if (dCnt < dPad && !short) {
        short = true;
        dWarn |= 2;
      }
    }
  }
  return short;
}

// Whether a DC scan is of three components, the first 2 x 2 blocks an MCU
// and the others 1 x 1 (4:2:0).
function isDc420(p: usize, nComp: i32): bool {
  return nComp == 3 && load<i32>(p, 56) == 2 && load<i32>(p, 60) == 2 && load<i32>(p, 104) == 1 &&
    load<i32>(p, 108) == 1 && load<i32>(p, 152) == 1 && load<i32>(p, 156) == 1;
}

// The bit `b` (from the top of `buf`) added to the DC term at `at` as bit `al`.
@inline
function dcBit(at: usize, buf: u64, b: i32, al: i32): void {
  store<i16>(at, <i16>(<i32>load<i16>(at) | (<i32>((buf << <u64>b) >> 63) << al)));
}

// progDcMcus's first scan of a 4:2:0 image without restart markers: each
// block as progDcFirst decodes it, in the same order, the component rows
// as pointers moving along (no per-block arithmetic), the same end where
// the data stops.
function dcFirst420(p: usize, al: i32, mcusX: i32, mcusY: i32): bool {
  const bpr0 = <usize>load<i32>(p, 52), bpr1 = <usize>load<i32>(p, 100), bpr2 = <usize>load<i32>(p, 148);
  const dcs0 = <usize>load<i32>(p, 76), dcs1 = <usize>load<i32>(p, 124), dcs2 = <usize>load<i32>(p, 172);
  const dc0 = <usize>load<i32>(p, 64), dc1 = <usize>load<i32>(p, 112), dc2 = <usize>load<i32>(p, 160);
  const y1 = bpr0 << 1;
  for (let my: usize = 0; my < <usize>mcusY; my++) {
    let y0 = dcs0 + ((my * bpr0) << 2), cb = dcs1 + ((my * bpr1) << 1), cr = dcs2 + ((my * bpr2) << 1);
    for (let mx = 0; mx < mcusX; mx++) {
      progDcFirst(y0, dc0, p + 72, al);
      progDcFirst(y0 + 2, dc0, p + 72, al);
      progDcFirst(y0 + y1, dc0, p + 72, al);
      progDcFirst(y0 + y1 + 2, dc0, p + 72, al);
      progDcFirst(cb, dc1, p + 120, al);
      progDcFirst(cr, dc2, p + 168, al);
      y0 += 4;
      cb += 2;
      cr += 2;
      // this MCU read past the data (zeros fed): the rest is skipped
      if (dCnt < dPad) {
        dWarn |= 2;
        return true;
      }
    }
  }
  return false;
}

// progDcMcus's refinement scan of a 4:2:0 image without restart markers:
// the 6 bits of an MCU at once (a refill per MCU, not per bit), the
// component rows as pointers moving along (no per-block arithmetic), the
// same bits in the same order and the same end where the data stops.
function dcRefine420(p: usize, al: i32, mcusX: i32, mcusY: i32): bool {
  const bpr0 = <usize>load<i32>(p, 52), bpr1 = <usize>load<i32>(p, 100), bpr2 = <usize>load<i32>(p, 148);
  const dcs0 = <usize>load<i32>(p, 76), dcs1 = <usize>load<i32>(p, 124), dcs2 = <usize>load<i32>(p, 172);
  const y1 = bpr0 << 1;
  let buf = dBuf, cnt = dCnt;
  for (let my: usize = 0; my < <usize>mcusY; my++) {
    let y0 = dcs0 + ((my * bpr0) << 2), cb = dcs1 + ((my * bpr1) << 1), cr = dcs2 + ((my * bpr2) << 1);
    for (let mx = 0; mx < mcusX; mx++) {
      if (cnt < 6) {
        buf = dFillFrom(buf, cnt);
        cnt = dCnt;
      }
      dcBit(y0, buf, 0, al);
      dcBit(y0 + 2, buf, 1, al);
      dcBit(y0 + y1, buf, 2, al);
      dcBit(y0 + y1 + 2, buf, 3, al);
      dcBit(cb, buf, 4, al);
      dcBit(cr, buf, 5, al);
      buf <<= 6;
      cnt -= 6;
      y0 += 4;
      cb += 2;
      cr += 2;
      // this MCU read past the data (zeros fed): the rest is skipped
      if (cnt < dPad) {
        dBuf = buf;
        dCnt = cnt;
        dWarn |= 2;
        return true;
      }
    }
  }
  dBuf = buf;
  dCnt = cnt;
  return false;
}

function progMcusDcFirst(p: usize): bool {
  return progDcMcus(p, 0);
}

function progMcusDcRefine(p: usize): bool {
  return progDcMcus(p, 1);
}

function progBlocksAcFirst(p: usize): bool {
  return progBlocks(p, 2);
}

function progBlocksAcRefine(p: usize): bool {
  return progBlocks(p, 3);
}

/**
 * Decodes one scan of a progressive JPEG into coefficient buffers. `p`
 * points to i32 parameters: [0] data start, [1] data end (end of file), [2]
 * restart interval (0: none), [3] Ss, [4] Se, [5] Ah, [6] Al, [7] components
 * in the scan, [8] MCUs per row, [9] MCU rows (for a one-component scan:
 * that component's blocks per row and block rows); then per scan component
 * at p + 48 + 48 * c: AC terms (64 i16 per block), blocks per row of the
 * buffers, H, V (1, 1 in a one-component scan), DC table, AC table, DC
 * predictor (scratch), DC terms (i16 per block), nonzero masks (u64 per
 * block). The DC terms and masks must start at 0; the AC terms of a block
 * are cleared when its mask first becomes nonzero. Returns the offset of
 * the marker after the scan (or the data's end). Damaged data decodes as
 * libjpeg-turbo's jdphuff.c decodes it, and [10] (p + 40) gets what was
 * forgiven (dWarn's bits, as jpegDecodeScan's): where the data stops early
 * the rest of the restart interval's blocks are left as they are. [58]
 * (p + 232), for a one-component AC scan: 0, or the plane the component's
 * blocks go to, row by row as the scan leaves them (the scan completes the
 * component), as jpegBlocksToPlane does with [59] quant table, [60] plane
 * stride, [61] IDCT size shift, [62] the plane's block rows.
 */
export function jpegProgScan(p: usize): i32 {
  dPos = <usize>load<i32>(p);
  dLimit = <usize>load<i32>(p, 4);
  dEnd = dLimit;
  dBuf = 0;
  dCnt = 0;
  dPad = 0;
  dWarn = 0;
  eobRun = 0;
  const ss = load<i32>(p, 12), ah = load<i32>(p, 20), nComp = load<i32>(p, 28);
  for (let c = 0; c < nComp; c++) store<i32>(p + 48 + <usize>c * 48, 0, 24);
  // libjpeg's insufficient_data: the data stopped; the interval's remaining
  // MCUs are skipped. A function per kind of scan: each loop compiled on its own
  let short: bool;
  if (ss == 0) short = ah == 0 ? progMcusDcFirst(p) : progMcusDcRefine(p);
  else short = ah == 0 ? progBlocksAcFirst(p) : progBlocksAcRefine(p);
  if (dCnt < dPad && !short) {
    short = true;
    dWarn |= 2;
  }
  store<i32>(p, dScanEnd(short), 40);
  return <i32>dPos;
}

/**
 * Inverse DCT of a component's whole coefficient buffers (`bw` x `bh`
 * blocks: DC terms at `dcs`, AC terms at `coef`, nonzero masks at `masks`,
 * as jpegProgScan leaves them) into its plane at `plane` (row stride
 * `stride`), at the block size `shift` as jpegDecodeScan's, with quant table `q`.
 * Each block's unused slot 0 gets its DC term (the IDCT reads the block in
 * place). At shift 3 (one sample a block) only the DC terms are read:
 * `coef` and `masks` may be 0.
 */
export function jpegBlocksToPlane(coef: usize, dcs: usize, masks: usize, bw: i32, bh: i32, q: usize, plane: usize, stride: i32, shift: i32): void {
  const n = 8 >> shift;
  const s = <usize>stride;
  const q0 = load<i32>(q);
  if (shift == 0) {
    // full size (the common case): its own loop, the IDCT called directly
    for (let by = 0; by < bh; by++) {
      const row = plane + <usize>(by << 3) * s;
      let bi = <usize>(by * bw);
      for (let bx = 0; bx < bw; bx++, bi++) {
        const blk = coef + (bi << 7);
        store<i16>(blk, load<i16>(dcs + (bi << 1)));
        idct(blk, q, row + (<usize>bx << 3), s, blockTerms(load<u64>(masks + (bi << 3))));
      }
    }
    return;
  }
  for (let by = 0; by < bh; by++) {
    const row = plane + <usize>(by * n) * s;
    for (let bx = 0; bx < bw; bx++) {
      const bi = <usize>(by * bw + bx);
      const dc = load<i16>(dcs + (bi << 1));
      const out = row + <usize>(bx * n);
      if (shift == 3) {
        store<u8>(out, dcSample(dc, q0));
        continue;
      }
      // the IDCT reads the block in place, its DC term put in the unused slot 0
      // (the rest of a block whose mask is 0 was never cleared: not read)
      const m = load<u64>(masks + (bi << 3));
      const blk = coef + (bi << 7);
      store<i16>(blk, dc);
      idctScaled(blk, q, out, s, blockTerms(m), shift);
    }
  }
}

// Rows 4..7 and columns 4..7 of a block, as bits of its mask of nonzero terms (zigzag order).
const LOW_ROWS: u64 = 0xffdfe0ff00f80400;
const RIGHT_COLS: u64 = 0xfffc7f80fe01c000;

// The IDCT's `nz` for a block whose nonzero AC terms are the bits of `m` (zigzag order).
@inline
function blockTerms(m: u64): i32 {
  if (m == 0) return 0;
  const rows = (m & LOW_ROWS) != 0, cols = (m & RIGHT_COLS) != 0;
  return rows ? (cols ? 2 : 4) : (cols ? 3 : 1);
}

// (a * b + 127) / 255 rounded, for u16 lanes (Pillow's MULDIV255).
@inline
function mulDiv255(a: v128, b: v128): v128 {
  const t = i16x8.add(i16x8.mul(a, b), i16x8.splat(128));
  return i16x8.shr_u(i16x8.add(t, i16x8.shr_u(t, 8)), 8);
}

// Row y of component c (see jpegCmykToRgba), upsampled to full width if need be.
function cmykRow(p: usize, c: i32, y: i32, cw: i32, ch: i32, up: usize, rowLen: usize, sums: usize): usize {
  const cp = p + (<usize>c << 4);
  const plane = <usize>load<i32>(cp), cs = <usize>load<i32>(cp, 4), mode = load<i32>(cp, 8);
  const dst = up + <usize>c * rowLen;
  if (mode == 2) {
    chromaSums(plane + <usize>y * cs, 0, cw, sums);
    upsampleRow(sums, cw, dst, 1, 2, 2);
    return dst;
  }
  if (mode == 4) {
    duplicateRow(plane + <usize>y * cs, cw, dst);
    return dst;
  }
  if (mode == 3) {
    const cy = y >> 1;
    const far = y & 1 ? min(cy + 1, ch - 1) : max(cy - 1, 0);
    chromaSums(plane + <usize>cy * cs, plane + <usize>far * cs, cw, sums);
    upsampleRow(sums, cw, dst, 8, 7, 4);
    return dst;
  }
  return plane + <usize>y * cs;
}

/**
 * Colour conversion of a four-component (Adobe CMYK or YCCK, inks stored
 * inverted as Photoshop writes them) JPEG's planes to w x h RGBA at `out`.
 * `p` holds per component (i32 x 4 at p + 16 * c): plane, row stride, mode
 * (1: full size, 2: half width (h2v1), 3: half both ways (h2v2), upsampled
 * like libjpeg's fancy upsampling; 4: half width, upsampled plainly as
 * libjpeg does at 1/8 scale). `ycck` != 0: the first three are YCbCr
 * of the inverted inks, converted by libjpeg's ycck_cmyk_convert. Then R =
 * K' - K' * (255 - C') / 255 (rounded) with C', K' the stored (inverted)
 * samples, which is Pillow's CMYK -> RGB. With bit 2 of `ycck` set, writes
 * the inks themselves instead (C, M, Y, K with 0 = no ink, 255 - the stored
 * samples), for a conversion through the file's CMYK ICC profile. `tmp`:
 * scratch of 20 * w + 512 bytes. Writes up to 28 bytes past the end of `out`.
 */
export function jpegCmykToRgba(p: usize, w: i32, h: i32, flags: i32, out: usize, tmp: usize): void {
  const ycck = flags & 1, inks = flags & 2;
  const cw = (w + 1) >> 1, ch = (h + 1) >> 1;
  const rowLen = (<usize>w + 64) & ~15;
  const sums = tmp; // i16 row, cw + 2 (+ slack)
  const up = tmp + ((<usize>w << 1) + 64 & ~15); // 4 rows of rowLen
  const rgb = up + (rowLen << 2); // w RGBA
  const rowBytes = <usize>w << 2;
  const c255 = i16x8.splat(255);
  for (let y = 0; y < h; y++) {
    const r0 = cmykRow(p, 0, y, cw, ch, up, rowLen, sums);
    const r1 = cmykRow(p, 1, y, cw, ch, up, rowLen, sums);
    const r2 = cmykRow(p, 2, y, cw, ch, up, rowLen, sums);
    const r3 = cmykRow(p, 3, y, cw, ch, up, rowLen, sums);
    if (ycck) yccRow(r0, r1, r2, w, rgb);
    const o = out + <usize>y * rowBytes;
    for (let x = 0; x < w; x += 8) {
      const xo = <usize>x;
      let cc: v128, mm: v128, yy: v128;
      if (ycck) {
        // libjpeg: C' = 255 - R etc. of the YCbCr triple
        const lo = v128.load(rgb + (xo << 2)), hi = v128.load(rgb + (xo << 2), 16);
        const rr = i8x16.shuffle(lo, hi, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
        const gg = i8x16.shuffle(lo, hi, 1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 0, 0, 0, 0, 0, 0);
        const bb = i8x16.shuffle(lo, hi, 2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0);
        // 255 - C' = R: the "ink" Pillow sees is the YCbCr conversion itself
        cc = i16x8.extend_low_i8x16_u(rr);
        mm = i16x8.extend_low_i8x16_u(gg);
        yy = i16x8.extend_low_i8x16_u(bb);
      } else {
        cc = i16x8.sub(c255, i16x8.extend_low_i8x16_u(v128.load64_zero(r0 + xo)));
        mm = i16x8.sub(c255, i16x8.extend_low_i8x16_u(v128.load64_zero(r1 + xo)));
        yy = i16x8.sub(c255, i16x8.extend_low_i8x16_u(v128.load64_zero(r2 + xo)));
      }
      const k = i16x8.extend_low_i8x16_u(v128.load64_zero(r3 + xo));
      if (inks) {
        const cm = i8x16.narrow_i16x8_u(cc, mm);
        const yk = i8x16.narrow_i16x8_u(yy, i16x8.sub(c255, k));
        v128.store(o + (xo << 2), i8x16.shuffle(cm, yk, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27));
        v128.store(o + (xo << 2), i8x16.shuffle(cm, yk, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31), 16);
        continue;
      }
      const r16 = i16x8.sub(k, mulDiv255(cc, k));
      const g16 = i16x8.sub(k, mulDiv255(mm, k));
      const b16 = i16x8.sub(k, mulDiv255(yy, k));
      const rg = i8x16.narrow_i16x8_u(r16, g16);
      const ba = i8x16.narrow_i16x8_u(b16, c255);
      v128.store(o + (xo << 2), i8x16.shuffle(rg, ba, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27));
      v128.store(o + (xo << 2), i8x16.shuffle(rg, ba, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31), 16);
    }
  }
}

// ---------------------------------------------------------------------------
// PNG scanlines: unfiltering (None, Sub, Up, Average, Paeth) in place and
// expansion to RGBA. Rows lie one after another, each its filter byte then
// `stride` bytes (the inflated zlib stream as it is). The filters that
// depend on the left neighbour run one pixel at a time with its channels in
// SIMD lanes (as libpng's SSE2 code does) when a pixel has 3 bytes or more.

// Stores the low `bpp` bytes (3, 4, 6 or 8) of `v` at `p`.
@inline
function storePixel(p: usize, v: v128, bpp: i32): void {
  if (bpp == 4) v128.store32_lane(p, v, 0);
  else if (bpp == 8) v128.store64_lane(p, v, 0);
  else if (bpp == 3) {
    v128.store16_lane(p, v, 0);
    v128.store8_lane(p + 2, v, 2);
  } else {
    v128.store32_lane(p, v, 0);
    v128.store16_lane(p + 4, v, 2);
  }
}

// The bytes of one pixel (up to 8) widened to i16 lanes.
@inline
function loadPixel(p: usize): v128 {
  return i16x8.extend_low_i8x16_u(v128.load64_zero(p));
}

// Paeth on one row with bpp >= 3: pixel by pixel, channels in lanes. Each pixel waits for the
// one to its left (a), so that chain is kept short: everything from b, c and the raw bytes is
// computed beside it, and a stays in 16-bit lanes (added and masked, not narrowed and widened).
@inline
function paethVec(cur: usize, prev: usize, stride: i32, bpp: i32): void {
  let a = i16x8.splat(0);
  let c = i16x8.splat(0);
  const low = i16x8.splat(0xff);
  for (let i = 0; i < stride; i += bpp) {
    const p = cur + <usize>i;
    const b = loadPixel(prev + <usize>i);
    a = v128.and(i16x8.add(loadPixel(p), paethPred(a, b, c)), low);
    storePixel(p, i8x16.narrow_i16x8_u(a, a), bpp);
    c = b;
  }
}

// The Paeth prediction of one pixel in 16-bit lanes: left a, above b, above-left c.
@inline
function paethPred(a: v128, b: v128, c: v128): v128 {
  const bc = i16x8.sub(b, c);
  const pa = i16x8.abs(bc);
  const ac = i16x8.sub(a, c);
  const pb = i16x8.abs(ac);
  const pc = i16x8.abs(i16x8.add(ac, bc));
  const useA = v128.and(i16x8.le_s(pa, pb), i16x8.le_s(pa, pc));
  const useB = i16x8.le_s(pb, pc);
  return v128.bitselect(a, v128.bitselect(b, c, useB), useA);
}

// Paeth on two rows one after the other (bpp >= 3), the second a pixel behind the first: the
// pixel of the second row needs the first row's pixel above it and above-left, which the first
// row finished in the step before (and hands over in lanes, not through memory). Two chains
// that do not wait on each other, interleaved: each hides the other's latency.
@inline
function paethVec2(cur: usize, next: usize, prev: usize, stride: i32, bpp: i32): void {
  const low = i16x8.splat(0xff);
  let a0 = i16x8.splat(0), c0 = i16x8.splat(0); // first row: left, above-left
  let a1 = i16x8.splat(0), c1 = i16x8.splat(0); // second row: left, above-left
  for (let i = 0; i < stride; i += bpp) {
    const b0 = loadPixel(prev + <usize>i);
    const out0 = v128.and(i16x8.add(loadPixel(cur + <usize>i), paethPred(a0, b0, c0)), low);
    storePixel(cur + <usize>i, i8x16.narrow_i16x8_u(out0, out0), bpp);
    c0 = b0;
    if (i > 0) { // the second row's pixel to the left: above it is a0, the first row's last
      const q = next + <usize>(i - bpp);
      a1 = v128.and(i16x8.add(loadPixel(q), paethPred(a1, a0, c1)), low);
      storePixel(q, i8x16.narrow_i16x8_u(a1, a1), bpp);
      c1 = a0;
    }
    a0 = out0;
  }
  const q = next + <usize>(stride - bpp); // the second row's last pixel
  a1 = v128.and(i16x8.add(loadPixel(q), paethPred(a1, a0, c1)), low);
  storePixel(q, i8x16.narrow_i16x8_u(a1, a1), bpp);
}

// Average on one row with bpp >= 3 (prev = 0: no row above); a kept in 16-bit lanes as in Paeth.
@inline
function avgVec(cur: usize, prev: usize, stride: i32, bpp: i32): void {
  let a = i16x8.splat(0);
  const zero = i16x8.splat(0);
  const low = i16x8.splat(0xff);
  for (let i = 0; i < stride; i += bpp) {
    const p = cur + <usize>i;
    const b = prev ? loadPixel(prev + <usize>i) : zero;
    const raw = loadPixel(p);
    a = v128.and(i16x8.add(raw, i16x8.shr_u(i16x8.add(a, b), 1)), low);
    storePixel(p, i8x16.narrow_i16x8_u(a, a), bpp);
  }
}

// Sub on one row with bpp >= 3.
@inline
function subVec(cur: usize, stride: i32, bpp: i32): void {
  let a = i8x16.splat(0);
  for (let i = 0; i < stride; i += bpp) {
    const p = cur + <usize>i;
    a = i8x16.add(v128.load64_zero(p), a);
    storePixel(p, a, bpp);
  }
}

// Up: independent bytes, 16 at a time; the tail byte by byte (the next row follows).
function up(cur: usize, prev: usize, stride: i32): void {
  let i = 0;
  for (; i + 16 <= stride; i += 16) {
    const p = cur + <usize>i;
    v128.store(p, i8x16.add(v128.load(p), v128.load(prev + <usize>i)));
  }
  for (; i < stride; i++) {
    const p = cur + <usize>i;
    store<u8>(p, load<u8>(p) + load<u8>(prev + <usize>i));
  }
}

// Sub, Average and Paeth for 1- and 2-byte pixels, byte by byte (prev = 0: no row above).
function filterScalar(type: i32, cur: usize, prev: usize, stride: i32, bpp: i32): void {
  for (let i = 0; i < stride; i++) {
    const p = cur + <usize>i;
    const a: i32 = i >= bpp ? load<u8>(p - <usize>bpp) : 0;
    const b: i32 = prev ? load<u8>(prev + <usize>i) : 0;
    const c: i32 = prev && i >= bpp ? load<u8>(prev + <usize>(i - bpp)) : 0;
    let pred = a;
    if (type == 3) pred = (a + b) >> 1;
    else if (type == 4) {
      const pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - c - c);
      pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    store<u8>(p, load<u8>(p) + <u8>pred);
  }
}

// Sub, with the common pixel sizes' loops specialised.
function subRow(cur: usize, stride: i32, bpp: i32): void {
  if (bpp == 3) subVec(cur, stride, 3);
  else if (bpp == 4) subVec(cur, stride, 4);
  else if (bpp >= 6) subVec(cur, stride, bpp);
  else filterScalar(1, cur, 0, stride, bpp);
}

/**
 * Unfilters `rows` scanlines in place: row r's filter byte at
 * `p + r * (stride + 1)`, its bytes after it; `prev` is the unfiltered row
 * above the first (0 for none). `bpp`: 1, 2, 3, 4, 6 or 8 bytes per pixel.
 * Returns the index of the first row with an unknown filter type, or -1.
 */
export function pngUnfilter(p: usize, prev: usize, rows: i32, stride: i32, bpp: i32): i32 {
  const pitch = <usize>stride + 1;
  for (let r = 0; r < rows; r++) {
    const cur = p + <usize>r * pitch + 1;
    const type = <i32>load<u8>(cur - 1);
    if (type == 0) {
    } else if (type == 1) {
      subRow(cur, stride, bpp);
    } else if (type == 2) {
      if (prev) up(cur, prev, stride);
    } else if (type == 3) {
      if (bpp == 3) avgVec(cur, prev, stride, 3);
      else if (bpp == 4) avgVec(cur, prev, stride, 4);
      else if (bpp >= 6) avgVec(cur, prev, stride, bpp);
      else filterScalar(3, cur, prev, stride, bpp);
    } else if (type == 4) {
      const next = cur + pitch; // the next row, when it is Paeth too: both at once
      if (prev && bpp >= 3 && r + 1 < rows && load<u8>(next - 1) == 4) {
        if (bpp == 3) paethVec2(cur, next, prev, stride, 3);
        else if (bpp == 4) paethVec2(cur, next, prev, stride, 4);
        else paethVec2(cur, next, prev, stride, bpp);
        prev = next;
        r++;
        continue;
      }
      if (!prev) subRow(cur, stride, bpp); // no row above: Paeth predicts from the left
      else if (bpp == 3) paethVec(cur, prev, stride, 3);
      else if (bpp == 4) paethVec(cur, prev, stride, 4);
      else if (bpp >= 6) paethVec(cur, prev, stride, bpp);
      else filterScalar(4, cur, prev, stride, bpp);
    } else {
      return r;
    }
    prev = cur;
  }
  return -1;
}

/**
 * Expands `rows` unfiltered scanlines (laid out as {@link pngUnfilter}
 * takes them) to `width` RGBA pixels each, rows one after another at `out`.
 * `mode`: colour type * 2 + (1 for 16 bits: the high byte of each sample
 * is kept). Palette (mode 6): `palette` holds 256 RGBA entries, `size` of
 * them valid. `key` >= 0: the tRNS colour key of gray or RGB as 0xBBGGRR;
 * matching pixels get alpha 0. Returns the first row with a palette index
 * past the palette, or -1.
 */
export function pngExpand(p: usize, rows: i32, stride: i32, width: i32, mode: i32, palette: usize, size: i32, key: i32, out: usize): i32 {
  const pitch = <usize>stride + 1;
  const opaque = i32x4.splat(0xff000000);
  for (let r = 0; r < rows; r++) {
    const s = p + <usize>r * pitch + 1;
    const d = out + <usize>r * (<usize>width << 2);
    let x = 0;
    if (mode == 12) { // RGBA 8
      memory.copy(d, s, <usize>width << 2);
      continue;
    } else if (mode == 4) { // RGB 8: 4 pixels (12 bytes) per step
      for (; x + 4 <= width; x += 4) {
        const v = v128.load(s + <usize>(x * 3));
        v128.store(d + (<usize>x << 2), v128.or(i8x16.swizzle(v, i8x16(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1)), opaque));
      }
    } else if (mode == 0) { // gray 8
      for (; x + 4 <= width; x += 4) {
        const v = v128.load32_zero(s + <usize>x);
        v128.store(d + (<usize>x << 2), v128.or(i8x16.swizzle(v, i8x16(0, 0, 0, -1, 1, 1, 1, -1, 2, 2, 2, -1, 3, 3, 3, -1)), opaque));
      }
    } else if (mode == 8) { // gray + alpha 8
      for (; x + 4 <= width; x += 4) {
        const v = v128.load64_zero(s + (<usize>x << 1));
        v128.store(d + (<usize>x << 2), i8x16.swizzle(v, i8x16(0, 0, 0, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 6, 7)));
      }
    } else if (mode == 13) { // RGBA 16: high bytes
      for (; x + 2 <= width; x += 2) {
        const v = v128.load(s + (<usize>x << 3));
        v128.store64_lane(d + (<usize>x << 2), i8x16.swizzle(v, i8x16(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1)), 0);
      }
    }
    // the rest (and every pixel of the other modes) one at a time
    for (; x < width; x++) {
      const o = d + (<usize>x << 2);
      let px: u32 = 0;
      if (mode == 6) {
        const i = <i32>load<u8>(s + <usize>x);
        if (i >= size) return r;
        px = load<u32>(palette + (<usize>i << 2));
      } else if (mode == 0 || mode == 1) {
        const g = <u32>load<u8>(s + <usize>(x << (mode & 1)));
        px = g * 0x010101 | 0xff000000;
      } else if (mode == 4 || mode == 5) {
        const q = s + <usize>(x * 3 << (mode & 1));
        const k = <usize>(mode & 1) + 1;
        px = <u32>load<u8>(q) | <u32>load<u8>(q + k) << 8 | <u32>load<u8>(q + 2 * k) << 16 | 0xff000000;
      } else if (mode == 8 || mode == 9) {
        const q = s + <usize>(x * 2 << (mode & 1));
        const g = <u32>load<u8>(q);
        px = g * 0x010101 | <u32>load<u8>(q + <usize>(mode & 1) + 1) << 24;
      } else { // 12, 13
        const q = s + <usize>(x * 4 << (mode & 1));
        const k = <usize>(mode & 1) + 1;
        px = <u32>load<u8>(q) | <u32>load<u8>(q + k) << 8 | <u32>load<u8>(q + 2 * k) << 16 | <u32>load<u8>(q + 3 * k) << 24;
      }
      store<u32>(o, px);
    }
    if (key >= 0) {
      for (x = 0; x < width; x++) {
        const o = d + (<usize>x << 2);
        if ((load<u32>(o) & 0xffffff) == <u32>key) store<u8>(o + 3, 0);
      }
    }
  }
  return -1;
}

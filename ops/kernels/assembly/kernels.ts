// deno-fmt-ignore-file
// deno-lint-ignore-file
// @ts-nocheck -- AssemblyScript, compiled by ops/kernels/build.ts, not part of the Deno module graph.
//
// zpix image kernels in AssemblyScript with WebAssembly SIMD (v128).
//
// Every function works on raw pointers into the module's linear memory; the
// TypeScript wrapper (ops/kernels/mod.ts) owns the memory layout: it bump
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

// OpenCV's fixed point BT.601 luma: Y = (R*4899 + G*9617 + B*1868 + 8192) >> 14.
// @inline
function lumaVec(v: v128): v128 {
  const ff = i32x4.splat(0xff);
  const r = v128.and(v, ff);
  const g = v128.and(i32x4.shr_u(v, 8), ff);
  const b = v128.and(i32x4.shr_u(v, 16), ff);
  let y = i32x4.add(i32x4.mul(r, i32x4.splat(4899)), i32x4.mul(g, i32x4.splat(9617)));
  y = i32x4.add(y, i32x4.add(i32x4.mul(b, i32x4.splat(1868)), i32x4.splat(8192)));
  return i32x4.shr_u(y, 14);
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
  const bias = i32x4.splat(1 << 13);
  for (let y = 0; y < rows; y++) {
    const s = src + <usize>y * srcRow;
    const d = dst + <usize>y * dstRow;
    let wp = weights;
    for (let x = 0; x < dstW; x++) {
      let p = s + (<usize>load<i32>(bounds + (<usize>x << 2)) << 2);
      let acc = bias;
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
        wp += 4;
      }
      const r = i32x4.shr_s(acc, 14);
      const n16 = i16x8.narrow_i32x4_s(r, r);
      v128.store32_lane(d + (<usize>x << 2), i8x16.narrow_i16x8_u(n16, n16), 0);
    }
  }
}

/**
 * Vertical pass: row y of dst = sum_k w[y][k] * row (ymin[y] + k) of src, over
 * `rowBytes` bytes per row. `taps` even, zero padded. Writes up to 15 bytes
 * past the last row.
 */
export function resizeV(src: usize, rowBytes: i32, dst: usize, dstH: i32, bounds: usize, weights: usize, taps: i32): void {
  const stride = <usize>rowBytes;
  const bias = i32x4.splat(1 << 13);
  for (let y = 0; y < dstH; y++) {
    const s0 = src + <usize>load<i32>(bounds + (<usize>y << 2)) * stride;
    const d = dst + <usize>y * stride;
    const wrow = weights + <usize>(y * taps) * 2;
    for (let x: usize = 0; x < stride; x += 16) {
      let a0 = bias, a1 = bias, a2 = bias, a3 = bias;
      let s = s0 + x;
      let wp = wrow;
      for (let k = 0; k < taps; k += 2) {
        const ra = v128.load(s);
        const rb = v128.load(s + stride);
        const w = v128.load32_splat(wp);
        const lo = i8x16.shuffle(ra, rb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const hi = i8x16.shuffle(ra, rb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(lo), w));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(lo), w));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(hi), w));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(hi), w));
        s += stride << 1;
        wp += 4;
      }
      const lo16 = i16x8.narrow_i32x4_s(i32x4.shr_s(a0, 14), i32x4.shr_s(a1, 14));
      const hi16 = i16x8.narrow_i32x4_s(i32x4.shr_s(a2, 14), i32x4.shr_s(a3, 14));
      v128.store(d + x, i8x16.narrow_i16x8_u(lo16, hi16));
    }
  }
}

// ---------------------------------------------------------------------------
// Baseline JPEG encoder: YCbCr 4:2:0, float AAN DCT, Huffman coding
// ---------------------------------------------------------------------------

// Natural (row-major) index of the k-th coefficient in zigzag order, but
// transposed (col * 8 + row), because the DCT below leaves its output transposed.
const ZIGZAG_T = memory.data<u8>([
  0, 8, 1, 2, 9, 16, 24, 17, 10, 3, 4, 11, 18, 25, 32, 40,
  33, 26, 19, 12, 5, 6, 13, 20, 27, 34, 41, 48, 56, 49, 42, 35,
  28, 21, 14, 7, 15, 22, 29, 36, 43, 50, 57, 58, 51, 44, 37, 30,
  23, 31, 38, 45, 52, 59, 60, 53, 46, 39, 47, 54, 61, 62, 55, 63,
]);

// 8x8 f32 working block, row-major (row r at byte r * 32).
const BLOCK = memory.data(256, 16);
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
  const ff = i32x4.splat(0xff);
  const r = v128.and(v, ff);
  const g = v128.and(i32x4.shr_u(v, 8), ff);
  const b = v128.and(i32x4.shr_u(v, 16), ff);
  let y = i32x4.add(i32x4.mul(r, i32x4.splat(19595)), i32x4.mul(g, i32x4.splat(38470)));
  y = i32x4.add(y, i32x4.add(i32x4.mul(b, i32x4.splat(7471)), i32x4.splat(32768)));
  return i32x4.shr_u(y, 16);
}

// One 1-D AAN forward DCT over 8 f32x4 vectors at p, p + 32, ..., p + 224
// (i.e. along the rows of BLOCK, for 4 columns at once), in place.
function aan8(p: usize): void {
  const d0 = v128.load(p), d1 = v128.load(p, 32), d2 = v128.load(p, 64), d3 = v128.load(p, 96);
  const d4 = v128.load(p, 128), d5 = v128.load(p, 160), d6 = v128.load(p, 192), d7 = v128.load(p, 224);
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

// Transposes the 4x4 f32 sub-block at a (row stride 32 bytes) into b; a may equal b.
function transpose4(a: usize, b: usize): void {
  const r0 = v128.load(a), r1 = v128.load(a, 32), r2 = v128.load(a, 64), r3 = v128.load(a, 96);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(b, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(b, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
  v128.store(b, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
  v128.store(b, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
}

// sign(x) * floor(|x| * recip + offset)
function quantize(x: v128, recip: v128, offset: v128): v128 {
  const y = f32x4.mul(x, recip);
  const sign = v128.and(y, i32x4.splat(0x80000000));
  return v128.or(f32x4.floor(f32x4.add(f32x4.abs(y), offset)), sign);
}

// Forward DCT + quantization of the 8x8 u8 block at `src` (row stride
// `stride`) with reciprocal divisors and rounding offsets `q` (2 x 64 f32, transposed order); writes
// 64 i16 in zigzag order to `out`.
function fdctQuant(src: usize, stride: usize, q: usize, out: usize): void {
  const c128 = f32x4.splat(128.0);
  for (let r: usize = 0; r < 8; r++) {
    const b = i16x8.extend_low_i8x16_u(v128.load64_zero(src + r * stride));
    v128.store(BLOCK + r * 32, f32x4.sub(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(b)), c128));
    v128.store(BLOCK + r * 32 + 16, f32x4.sub(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(b)), c128));
  }
  aan8(BLOCK);
  aan8(BLOCK + 16);
  // transpose 8x8: swap the off-diagonal 4x4 blocks while transposing them
  transpose4(BLOCK, BLOCK);
  transpose4(BLOCK + 144, BLOCK + 144);
  const tr0 = v128.load(BLOCK + 16), tr1 = v128.load(BLOCK + 48), tr2 = v128.load(BLOCK + 80), tr3 = v128.load(BLOCK + 112);
  transpose4(BLOCK + 128, BLOCK + 16);
  v128.store(BLOCK + 128, tr0);
  v128.store(BLOCK + 160, tr1);
  v128.store(BLOCK + 192, tr2);
  v128.store(BLOCK + 224, tr3);
  transpose4(BLOCK + 128, BLOCK + 128);
  aan8(BLOCK);
  aan8(BLOCK + 16);
  // quantize: BLOCK now holds coefficient (u, v) at v * 8 + u
  // q[0..63]: reciprocal divisors, q[64..127]: rounding offsets (0.5 = nearest,
  // less = a dead zone that rounds small values toward zero)
  for (let i: usize = 0; i < 256; i += 32) {
    const x0 = quantize(v128.load(BLOCK + i), v128.load(q + i), v128.load(q + i + 256));
    const x1 = quantize(v128.load(BLOCK + i + 16), v128.load(q + i + 16), v128.load(q + i + 272));
    // baseline JPEG codes at most 10 magnitude bits for AC (only reachable near quality 100)
    const n = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(x0), i32x4.trunc_sat_f32x4_s(x1));
    v128.store(QBLOCK + (i >> 1), i16x8.max_s(i16x8.min_s(n, i16x8.splat(1023)), i16x8.splat(-1023)));
  }
  for (let k: usize = 0; k < 64; k++) {
    store<i16>(out + (k << 1), load<i16>(QBLOCK + (<usize>load<u8>(ZIGZAG_T + k) << 1)));
  }
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

/**
 * Counts Huffman symbol frequencies of `nMcu` MCUs of coefficients into
 * `freq`: 4 tables of 256 u32 (DC luma, AC luma, DC chroma, AC chroma).
 */
export function jpegStats(coef: usize, nMcu: i32, freq: usize): void {
  let predY = 0, predCb = 0, predCr = 0;
  let blk = coef;
  for (let m = 0; m < nMcu; m++) {
    for (let b = 0; b < 6; b++) {
      const t: usize = b < 4 ? freq : freq + 2048;
      const dc = <i32>load<i16>(blk);
      let diff: i32;
      if (b < 4) { diff = dc - predY; predY = dc; } else if (b == 4) { diff = dc - predCb; predCb = dc; } else { diff = dc - predCr; predCr = dc; }
      const dp = t + (<usize>bitLength(diff) << 2);
      store<u32>(dp, load<u32>(dp) + 1);
      const ac = t + 1024;
      let mask = nonzeroMask(blk) & ~(<u64>1);
      let last = 0;
      while (mask != 0) {
        const k = <i32>ctz(mask);
        let run = k - last - 1;
        while (run > 15) { store<u32>(ac + 0xf0 * 4, load<u32>(ac + 0xf0 * 4) + 1); run -= 16; }
        const sym = (run << 4) | bitLength(<i32>load<i16>(blk + (<usize>k << 1)));
        const sp = ac + (<usize>sym << 2);
        store<u32>(sp, load<u32>(sp) + 1);
        last = k;
        mask &= mask - 1;
      }
      if (last != 63) store<u32>(ac, load<u32>(ac) + 1);
      blk += 128;
    }
  }
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

function putBits(code: u32, len: i32): void {
  bitBuf = (bitBuf << <u64>len) | <u64>code;
  bitCnt += len;
  if (bitCnt >= 32) flushWord();
}

// Emits `v` (|v| < 2^15) with the Huffman table `tbl`, symbol = (run << 4) | size.
function putValue(tbl: usize, run: i32, v: i32): void {
  const nb = bitLength(v);
  const e = load<u32>(tbl + (<usize>((run << 4) | nb) << 2));
  const bits = <u32>(v < 0 ? v - 1 : v) & ((1 << nb) - 1);
  putBits(((e & 0xffff) << nb) | bits, <i32>(e >> 16) + nb);
}

/**
 * Huffman-codes `nMcu` MCUs of coefficients to `out` with the tables at
 * `huff` (4 x 256 u32 = (length << 16) | code, same order as jpegStats),
 * including 0xFF byte stuffing and the final 1-bit padding. Returns the number
 * of bytes written.
 */
export function jpegEntropy(coef: usize, nMcu: i32, huff: usize, out: usize): i32 {
  bitBuf = 0;
  bitCnt = 0;
  outPos = out;
  let predY = 0, predCb = 0, predCr = 0;
  let blk = coef;
  for (let m = 0; m < nMcu; m++) {
    for (let b = 0; b < 6; b++) {
      const t: usize = b < 4 ? huff : huff + 2048;
      const dc = <i32>load<i16>(blk);
      let diff: i32;
      if (b < 4) { diff = dc - predY; predY = dc; } else if (b == 4) { diff = dc - predCb; predCb = dc; } else { diff = dc - predCr; predCr = dc; }
      putValue(t, 0, diff);
      const ac = t + 1024;
      let mask = nonzeroMask(blk) & ~(<u64>1);
      let last = 0;
      while (mask != 0) {
        const k = <i32>ctz(mask);
        let run = k - last - 1;
        while (run > 15) {
          const z = load<u32>(ac + 0xf0 * 4);
          putBits(z & 0xffff, <i32>(z >> 16));
          run -= 16;
        }
        putValue(ac, run, <i32>load<i16>(blk + (<usize>k << 1)));
        last = k;
        mask &= mask - 1;
      }
      if (last != 63) {
        const e = load<u32>(ac);
        putBits(e & 0xffff, <i32>(e >> 16));
      }
      blk += 128;
    }
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

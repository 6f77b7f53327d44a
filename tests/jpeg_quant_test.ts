/**
 * The quantisation the fast JPEG encoder applies, not only the table it
 * writes in the header: an 8x8 block made of one DCT basis function with a
 * known coefficient is encoded, decoded by an independent decoder (jpeg-js,
 * which dequantises with the header's table), and the coefficient that
 * comes back is measured by projecting the block onto the same basis.
 *
 * With the Annex K luminance table the quantised value is exact
 * (`floor(F / q + 0.42) * q`), so the test can ask for it: an encoder that
 * divides by another step than the one it declares (e.g. the table
 * transposed, q(0,5) = 40 read as q(5,0) = 24) returns 320 where 200 is
 * expected.
 *
 * @module
 */

import jpeg from "jpeg-js";
import assert from "node:assert/strict";
import { encodeJpegFast } from "../ops/kernels/mod.ts";

const SIZE = 16; // one MCU: four luma blocks, one of each chroma

/** DCT-II basis value at pixel (x, y) for frequencies (u vertical, v horizontal). */
function basis(u: number, v: number, x: number, y: number): number {
  const cu = u === 0 ? Math.SQRT1_2 : 1, cv = v === 0 ? Math.SQRT1_2 : 1;
  return (cu * cv / 4) * Math.cos(((2 * y + 1) * u * Math.PI) / 16) *
    Math.cos(((2 * x + 1) * v * Math.PI) / 16);
}

/**
 * A gray 16x16 image, level 128 everywhere, whose top-left 8x8 luma block is
 * `128 + coefficient * basis(u, v)` (so its DCT has exactly that one AC
 * coefficient, up to the rounding of pixels to integers).
 */
function oneCoefficientImage(u: number, v: number, coefficient: number): {
  width: number;
  height: number;
  data: Uint8Array;
} {
  const data = new Uint8Array(SIZE * SIZE * 4);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const level = x < 8 && y < 8 ? 128 + coefficient * basis(u, v, x, y) : 128;
      const i = (y * SIZE + x) * 4;
      data[i] = data[i + 1] = data[i + 2] = Math.round(level);
      data[i + 3] = 255;
    }
  }
  return { width: SIZE, height: SIZE, data };
}

/** The DCT coefficient (u, v) of the top-left block of a decoded gray JPEG. */
function decodedCoefficient(bytes: Uint8Array, u: number, v: number): number {
  const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  assert.deepEqual([decoded.width, decoded.height], [SIZE, SIZE]);
  let sum = 0;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      // Gray in, gray out: R = G = B = Y (chroma stays at 128).
      sum += (decoded.data[(y * SIZE + x) * 4] - 128) * basis(u, v, x, y);
    }
  }
  return sum;
}

/** libjpeg's quality scaling of one table entry (as `scaledQuant` in ops/kernels/mod.ts). */
function scaled(base: number, quality: number): number {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return Math.min(255, Math.max(1, Math.floor((base * scale + 50) / 100)));
}

// Annex K.1 luminance table entries at mirrored positions that differ a lot.
const CASES = [
  { u: 0, v: 5, base: 40 }, // mirror (5, 0) is 24
  { u: 5, v: 0, base: 24 }, // mirror (0, 5) is 40
  { u: 1, v: 5, base: 58 }, // mirror (5, 1) is 35
  { u: 5, v: 1, base: 35 }, // mirror (1, 5) is 58
];

for (const quality of [50, 75]) {
  Deno.test(`jpeg quantisation: one known luma coefficient comes back as floor(F/q + 0.42)*q at quality ${quality}`, () => {
    for (const { u, v, base } of CASES) {
      const q = scaled(base, quality);
      // F = 5q: exactly 5 steps (no rounding question), 200 at q = 40.
      const coefficient = 5 * q;
      const bytes = encodeJpegFast(oneCoefficientImage(u, v, coefficient), quality);
      const back = decodedCoefficient(bytes, u, v);
      // Pixels are rounded to integers on both sides: a few units of error, far below q.
      assert.ok(
        Math.abs(back - coefficient) <= 4,
        `(${u},${v}) at quality ${quality}: encoded ${coefficient} (5 steps of ${q}), ` +
          `decoded ${back.toFixed(1)} (${(back / q).toFixed(2)} steps): ` +
          `the encoder did not quantise with the table it wrote`,
      );
    }
  });
}

Deno.test("jpeg quantisation: AC coefficients round with the 0.42 dead zone (1.5 steps -> 1, 1.7 -> 2)", () => {
  // (0,5) at quality 50: q = 40. floor(steps + 0.42): 0.5 -> 0, 0.7 -> 1, 1.5 -> 1 (round to
  // nearest would say 2), 1.7 -> 2.
  for (const [steps, expected] of [[0.5, 0], [0.7, 40], [1.5, 40], [1.7, 80]] as const) {
    const bytes = encodeJpegFast(oneCoefficientImage(0, 5, steps * 40), 50);
    const back = decodedCoefficient(bytes, 0, 5);
    assert.ok(
      Math.abs(back - expected) <= 4,
      `${steps} steps of 40: decoded ${back.toFixed(1)}, expected ${expected}`,
    );
  }
});

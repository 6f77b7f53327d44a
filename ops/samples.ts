/**
 * Deterministic synthetic images, for the demo and for tests: gradients,
 * discs and stripes, so resizes, flips and thresholds show visibly.
 *
 * @module
 */

import { createImage, type Image } from "./image.ts";

/** A small deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Paints sample number `seed` at the given size: a diagonal colour
 * gradient, a few discs, stripes and mild noise; with `alpha`, a radial
 * transparency.
 */
export function sampleImage(
  width: number,
  height: number,
  seed: number,
  alpha = false,
): Image {
  const image = createImage(width, height);
  const rand = random(seed);
  const hue = [rand() * 255, rand() * 255, rand() * 255];
  const discs = Array.from({ length: 3 + Math.floor(rand() * 4) }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: (0.08 + rand() * 0.2) * Math.min(width, height),
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  const stripe = 6 + Math.floor(rand() * 20);
  const d = image.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const u = x / width, v = y / height;
      let r = hue[0] * (1 - u) + 255 * u * v,
        g = hue[1] * (1 - v) + 128 * u,
        b = hue[2] * u + 64 * v;
      for (const disc of discs) {
        if ((x - disc.x) ** 2 + (y - disc.y) ** 2 < disc.r ** 2) {
          [r, g, b] = disc.c;
        }
      }
      if (y > height * 0.8 && Math.floor(x / stripe) % 2 === 0) r = g = b = 250;
      const noise = (rand() - 0.5) * 12;
      // clamp: a Uint8Array wraps 256 to 0, which turned the mild noise into salt and pepper
      d[i] = Math.min(255, Math.max(0, r + noise));
      d[i + 1] = Math.min(255, Math.max(0, g + noise));
      d[i + 2] = Math.min(255, Math.max(0, b + noise));
      d[i + 3] = alpha ? Math.max(0, 255 - 255 * Math.hypot(u - 0.5, v - 0.5) * 1.6) : 255;
    }
  }
  return image;
}

/** Sizes of the sample set: Flickr8k-like photos, portrait and landscape. */
export const SAMPLE_SIZES: readonly [number, number][] = [
  [500, 375],
  [375, 500],
  [500, 333],
  [640, 480],
  [333, 500],
  [500, 281],
];

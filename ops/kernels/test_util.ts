/**
 * Helpers shared by the kernel tests and benchmarks: deterministic test
 * images and PSNR. Not part of the kernels API.
 *
 * @module
 */
import encodeMozjpeg from "@jsquash/jpeg/encode.js";
import { defaultOptions } from "@jsquash/jpeg/meta.js";
import type { Image } from "../image.ts";

/** A small deterministic PRNG (mulberry32) returning floats in [0, 1). */
export { random as rng } from "../samples.ts";
import { random as rng } from "../samples.ts";

/** Uniform random RGBA bytes (alpha random too). */
export function noiseImage(width: number, height: number, seed = 1): Image {
  const r = rng(seed);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { width, height, data };
}

/** Smooth gradients (different per channel), opaque. */
export function smoothImage(width: number, height: number): Image {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / Math.max(1, width - 1), v = y / Math.max(1, height - 1);
      const i = (y * width + x) * 4;
      data[i] = Math.round(255 * u);
      data[i + 1] = Math.round(255 * v);
      data[i + 2] = Math.round(127.5 + 127.5 * Math.sin(6 * u + 4 * v));
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/**
 * A photo-like opaque test image: smooth shading, a few hard-edged shapes,
 * fine texture and mild noise, all from `seed`.
 */
export function photoLikeImage(width: number, height: number, seed = 7): Image {
  const r = rng(seed);
  const shapes = Array.from({ length: 6 }, () => ({
    cx: r() * width,
    cy: r() * height,
    rad: (0.1 + 0.25 * r()) * Math.min(width, height),
    col: [r() * 255, r() * 255, r() * 255],
    round: r() < 0.5,
  }));
  const fx = 0.05 + 0.2 * r(), fy = 0.05 + 0.2 * r();
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width, v = y / height;
      let c = [60 + 120 * u, 80 + 100 * v, 140 - 80 * u * v];
      for (const s of shapes) {
        const dx = x - s.cx, dy = y - s.cy;
        const inside = s.round
          ? dx * dx + dy * dy < s.rad * s.rad
          : Math.abs(dx) < s.rad && Math.abs(dy) < s.rad * 0.6;
        if (inside) c = s.col.map((k, j) => 0.8 * k + 0.2 * c[j]);
      }
      const tex = 12 * Math.sin(x * fx + 3 * Math.sin(y * fy)) *
        Math.sin(y * fx * 0.7);
      const i = (y * width + x) * 4;
      for (let j = 0; j < 3; j++) {
        data[i + j] = Math.max(
          0,
          Math.min(255, Math.round(c[j] + tex + (r() - 0.5) * 10)),
        );
      }
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/** PSNR in dB over R, G, B (alpha ignored); Infinity when identical. */
export function psnrRgb(
  a: Uint8Array | Uint8ClampedArray,
  b: Uint8Array | Uint8ClampedArray,
): number {
  if (a.length !== b.length) {
    throw new RangeError(`length ${a.length} != ${b.length}`);
  }
  let sum = 0, n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let j = 0; j < 3; j++) {
      const d = a[i + j] - b[i + j];
      sum += d * d;
    }
    n += 3;
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / sum);
}

/** PSNR in dB over all four channels; Infinity when identical. */
export function psnrRgba(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) {
    throw new RangeError(`length ${a.length} != ${b.length}`);
  }
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / sum);
}

/** MozJPEG's progressive encoding of `img` (@jsquash/jpeg), `opts` over its defaults. */
export async function mozjpegProgressive(
  img: Image,
  opts: Partial<typeof defaultOptions>,
): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length);
  const imageData = { width: img.width, height: img.height, data, colorSpace: "srgb" } as ImageData;
  return new Uint8Array(
    await encodeMozjpeg(imageData, { ...defaultOptions, ...opts, progressive: true }),
  );
}

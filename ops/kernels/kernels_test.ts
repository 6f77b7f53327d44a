// Tests of gray, threshold, flip and resize against plain-TS references.
// Runs with no permission at all: `deno test ops/kernels/kernels_test.ts`.
import { assert, assertEquals } from "./test_assert.ts";
import type { Image } from "../image.ts";
import { flipRgba, grayRgba, resizeRgba, thresholdRgba } from "./mod.ts";
import { noiseImage, photoLikeImage, psnrRgba, smoothImage } from "./test_util.ts";

const img = (width: number, height: number, px: number[]): Image => ({
  width,
  height,
  data: new Uint8Array(px),
});

function refLuma(r: number, g: number, b: number): number {
  return (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;
}

Deno.test("gray: hand-computed primaries, alpha kept", () => {
  const src = img(4, 1, [
    255,
    0,
    0,
    10,
    0,
    255,
    0,
    20,
    0,
    0,
    255,
    30,
    255,
    255,
    255,
    40,
  ]);
  const out = grayRgba(src);
  assertEquals(Array.from(out.data), [
    76,
    76,
    76,
    10,
    150,
    150,
    150,
    20,
    29,
    29,
    29,
    30,
    255,
    255,
    255,
    40,
  ]);
  assertEquals([out.width, out.height], [4, 1]);
  assert(out.data !== src.data);
  assertEquals(src.data[0], 255, "source untouched");
});

Deno.test("gray: matches integer reference on odd sizes", () => {
  for (const [w, h] of [[1, 1], [3, 1], [7, 5], [33, 17]]) {
    const src = noiseImage(w, h, w * 31 + h);
    const out = grayRgba(src).data;
    for (let i = 0; i < w * h * 4; i += 4) {
      const y = refLuma(src.data[i], src.data[i + 1], src.data[i + 2]);
      assertEquals([out[i], out[i + 1], out[i + 2], out[i + 3]], [
        y,
        y,
        y,
        src.data[i + 3],
      ], `${w}x${h} at ${i / 4}`);
    }
  }
});

Deno.test("threshold: Y > t, boundary and alpha", () => {
  // pure red has Y = 76: 76 > 75 -> 255, 76 > 76 -> 0
  const red = img(1, 1, [255, 0, 0, 99]);
  assertEquals(Array.from(thresholdRgba(red, 75).data), [255, 255, 255, 99]);
  assertEquals(Array.from(thresholdRgba(red, 76).data), [0, 0, 0, 99]);
  for (
    const [w, h, t] of [[5, 3, 127], [64, 9, 0], [13, 13, 254], [2, 2, 255], [
      9,
      1,
      -1,
    ]]
  ) {
    const src = noiseImage(w, h, t + 1000);
    const out = thresholdRgba(src, t).data;
    for (let i = 0; i < w * h * 4; i += 4) {
      const v = refLuma(src.data[i], src.data[i + 1], src.data[i + 2]) > t ? 255 : 0;
      assertEquals([out[i], out[i + 1], out[i + 2], out[i + 3]], [
        v,
        v,
        v,
        src.data[i + 3],
      ]);
    }
  }
});

Deno.test("flip: 2x2 by hand", () => {
  const a = [1, 1, 1, 1], b = [2, 2, 2, 2], c = [3, 3, 3, 3], d = [4, 4, 4, 4];
  const src = img(2, 2, [...a, ...b, ...c, ...d]);
  assertEquals(Array.from(flipRgba(src, "h").data), [...b, ...a, ...d, ...c]);
  assertEquals(Array.from(flipRgba(src, "v").data), [...c, ...d, ...a, ...b]);
  assertEquals(Array.from(flipRgba(src, "hv").data), [...d, ...c, ...b, ...a]);
});

Deno.test("flip: matches reference on odd sizes", () => {
  for (const [w, h] of [[1, 1], [1, 5], [5, 1], [7, 3], [16, 4], [37, 11]]) {
    const src = noiseImage(w, h, w + 100 * h);
    for (const axis of ["h", "v", "hv"] as const) {
      const out = flipRgba(src, axis);
      assertEquals([out.width, out.height], [w, h]);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sx = axis === "v" ? x : w - 1 - x;
          const sy = axis === "h" ? y : h - 1 - y;
          const o = (y * w + x) * 4, s = (sy * w + sx) * 4;
          assertEquals(
            Array.from(out.data.subarray(o, o + 4)),
            Array.from(src.data.subarray(s, s + 4)),
            `${axis} ${w}x${h} (${x},${y})`,
          );
        }
      }
    }
  }
});

// ---------------------------------------------------------------------------
// resize: float reference of the same filter
// ---------------------------------------------------------------------------

/** Float weights of a triangle filter whose support scales with the downscale factor. */
function refWeights(
  src: number,
  dst: number,
): { start: number; w: number[] }[] {
  const scale = src / dst;
  const fs = Math.max(scale, 1);
  const out = [];
  for (let i = 0; i < dst; i++) {
    const center = (i + 0.5) * scale; // in "edge" coordinates; pixel x covers [x, x+1)
    const ws: number[] = [];
    let total = 0;
    const start = Math.max(0, Math.floor(center - fs - 1));
    const end = Math.min(src, Math.ceil(center + fs + 1));
    for (let x = start; x < end; x++) {
      const t = Math.abs(x + 0.5 - center) / fs;
      const w = t < 1 ? 1 - t : 0;
      ws.push(w);
      total += w;
    }
    out.push({ start, w: ws.map((w) => w / total) });
  }
  return out;
}

function refResize(src: Image, width: number, height: number): Uint8Array {
  const wx = refWeights(src.width, width), wy = refWeights(src.height, height);
  const tmp = new Float64Array(width * src.height * 4);
  for (let y = 0; y < src.height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0;
        wx[x].w.forEach((w, k) => s += w * src.data[(y * src.width + wx[x].start + k) * 4 + c]);
        tmp[(y * width + x) * 4 + c] = s;
      }
    }
  }
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let s = 0;
        wy[y].w.forEach((w, k) => s += w * tmp[((wy[y].start + k) * width + x) * 4 + c]);
        out[(y * width + x) * 4 + c] = Math.max(
          0,
          Math.min(255, Math.round(s)),
        );
      }
    }
  }
  return out;
}

Deno.test("resize: hand-computed 1-D cases", () => {
  // upscale 2 -> 4: centres at -0.25, 0.25, 0.75, 1.25 (clamped at the edges)
  const up = resizeRgba(img(2, 1, [0, 0, 0, 0, 100, 100, 100, 100]), 4, 1);
  assertEquals(Array.from(up.data.filter((_, i) => i % 4 === 0)), [
    0,
    25,
    75,
    100,
  ]);
  // downscale 4 -> 2: support 2, weights .75 .75 .25 renormalized at the border
  const down = resizeRgba(
    img(4, 1, [0, 0, 0, 0, 40, 0, 0, 0, 80, 0, 0, 0, 120, 0, 0, 0]),
    2,
    1,
  );
  assertEquals([down.data[0], down.data[4]], [29, 91]);
  // the same vertically
  const downV = resizeRgba(
    img(1, 4, [0, 0, 0, 0, 40, 0, 0, 0, 80, 0, 0, 0, 120, 0, 0, 0]),
    1,
    2,
  );
  assertEquals([downV.data[0], downV.data[4]], [29, 91]);
  // 1x1 -> anything is constant
  const one = resizeRgba(img(1, 1, [10, 20, 30, 40]), 5, 3);
  for (let i = 0; i < 15; i++) {
    assertEquals(Array.from(one.data.subarray(i * 4, i * 4 + 4)), [
      10,
      20,
      30,
      40,
    ]);
  }
});

Deno.test("resize: PSNR >= 45 dB against the float reference", () => {
  const cases: [Image, number, number][] = [
    [noiseImage(50, 37, 3), 51, 51],
    [smoothImage(500, 375), 512, 512],
    [photoLikeImage(500, 375), 512, 512],
    [noiseImage(333, 250, 4), 100, 77],
    [photoLikeImage(333, 250), 100, 77],
    [smoothImage(640, 480), 320, 240],
    [noiseImage(640, 480, 5), 37, 29],
    [noiseImage(31, 17, 6), 97, 45],
    [noiseImage(1, 1, 7), 3, 2],
    [noiseImage(1, 9, 8), 4, 3],
    [noiseImage(9, 1, 9), 3, 4],
    [noiseImage(7, 5, 10), 1, 1],
    [noiseImage(3, 2, 11), 2, 3],
    [noiseImage(40, 30, 12), 40, 17], // vertical only
    [noiseImage(40, 30, 13), 13, 30], // horizontal only
    [noiseImage(1000, 3, 14), 7, 1], // large factor
  ];
  for (const [src, w, h] of cases) {
    const out = resizeRgba(src, w, h);
    assertEquals([out.width, out.height, out.data.length], [w, h, w * h * 4]);
    const ref = refResize(src, w, h);
    const p = psnrRgba(out.data, ref);
    assert(
      p >= 45,
      `${src.width}x${src.height} -> ${w}x${h}: PSNR ${p.toFixed(2)} dB`,
    );
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(ref[i] - out.data[i]));
    }
    assert(
      maxErr <= 2,
      `${src.width}x${src.height} -> ${w}x${h}: max error ${maxErr}`,
    );
  }
});

Deno.test("resize: same size is an exact copy, constant stays constant", () => {
  const src = noiseImage(17, 9, 2);
  const same = resizeRgba(src, 17, 9);
  assertEquals(same.data, src.data);
  assert(same.data !== src.data);
  const flat = {
    width: 123,
    height: 45,
    data: new Uint8Array(123 * 45 * 4).fill(200),
  };
  for (const [w, h] of [[512, 512], [7, 3], [123, 1]]) {
    assert(resizeRgba(flat, w, h).data.every((v) => v === 200));
  }
});

Deno.test("kernels reject bad input", () => {
  let threw = 0;
  const bad = { width: 2, height: 2, data: new Uint8Array(15) };
  for (
    const f of [() => grayRgba(bad), () => resizeRgba(noiseImage(2, 2), 0, 1)]
  ) {
    try {
      f();
    } catch (e) {
      if (e instanceof RangeError) threw++;
    }
  }
  assertEquals(threw, 2);
});

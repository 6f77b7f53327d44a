// The resize kernels (`--kernel`) against Pillow's NEAREST, BILINEAR, BICUBIC
// and LANCZOS (outputs committed as PNGs by tests/fixtures/make_resize_fixtures.py),
// mitchell against a plain f64 reference, and the default filter against the
// bytes zpix made before kernels could be chosen.
// Needs --allow-read (fixtures; the PNG decoder loads its .wasm).
import { decodeImage } from "../codec.ts";
import type { Image } from "../image.ts";
import { transcodeJpegFast } from "../transcode.ts";
import type { Step } from "../pipeline.ts";
import { encodeJpegFast, type Kernel, KERNELS, resizeRgba } from "./mod.ts";
import { type AxisWeights, axisWeights } from "./filters.ts";
import { Arena } from "./arena.ts";
import { assert, assertEquals } from "./test_assert.ts";
import { noiseImage, photoLikeImage, psnrRgb } from "./test_util.ts";
import { concat } from "../bytes.ts";

const fixture = async (name: string): Promise<Image> =>
  (await decodeImage(
    Deno.readFileSync(new URL(`../../tests/fixtures/resize/${name}`, import.meta.url)),
  )).image;

const SIZES = [[37, 29], [150, 113], [160, 30]] as const;

/** Largest difference of any byte, and PSNR over RGB. */
function compare(a: Image, b: Image): { max: number; psnr: number } {
  assertEquals([a.width, a.height], [b.width, b.height]);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return { max, psnr: psnrRgb(a.data, b.data) };
}

/** Total length and SHA-256 (hex) of `parts` one after the other. */
async function lengthAndHash(parts: Uint8Array[]): Promise<[number, string]> {
  const all = concat(parts);
  const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", all))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return [all.length, hash];
}

Deno.test("nearest: Pillow's NEAREST exactly, down, up and mixed", async () => {
  const src = await fixture("source.png");
  for (const [w, h] of SIZES) {
    const { max } = compare(
      resizeRgba(src, w, h, "nearest"),
      await fixture(`nearest_${w}x${h}.png`),
    );
    assertEquals(max, 0, `nearest ${w}x${h}`);
  }
});

Deno.test("linear, cubic, lanczos3: within 2 levels of Pillow's BILINEAR, BICUBIC, LANCZOS", async () => {
  // Pillow keeps 22-bit weights, zpix 14-bit: a rounding apart, never more
  const src = await fixture("source.png");
  for (const kernel of ["linear", "cubic", "lanczos3"] as const) {
    for (const [w, h] of SIZES) {
      const what = `${kernel} ${w}x${h}`;
      const { max, psnr } = compare(
        resizeRgba(src, w, h, kernel),
        await fixture(`${kernel}_${w}x${h}.png`),
      );
      assert(max <= 2, `${what}: a byte differs by ${max}`);
      assert(psnr >= 50, `${what}: ${psnr.toFixed(1)} dB`);
    }
  }
});

Deno.test("lanczos3: at least 40 dB from Pillow's LANCZOS on a photo-like image, up and down", async () => {
  const src = await fixture("source.png");
  for (const [w, h] of [[37, 29], [150, 113]]) {
    const { psnr } = compare(
      resizeRgba(src, w, h, "lanczos3"),
      await fixture(`lanczos3_${w}x${h}.png`),
    );
    assert(psnr >= 40, `lanczos3 ${w}x${h}: ${psnr.toFixed(1)} dB`);
  }
});

// Mitchell-Netravali, B = C = 1/3, written out: (7x³ - 12x² + 16/3) / 6 and
// (-7/3 x³ + 12x² - 20x + 32/3) / 6.
function mitchellRef(x: number): number {
  x = Math.abs(x);
  if (x < 1) return (7 * x ** 3 - 12 * x ** 2 + 16 / 3) / 6;
  if (x < 2) return (-7 / 3 * x ** 3 + 12 * x ** 2 - 20 * x + 32 / 3) / 6;
  return 0;
}

/** One axis in f64: every source sample within the scaled support, normalised. */
function refAxis(line: number[], dst: number): number[] {
  const scale = line.length / dst, fscale = Math.max(1, scale);
  return Array.from({ length: dst }, (_, i) => {
    const centre = (i + 0.5) * scale;
    let sum = 0, total = 0;
    for (let x = 0; x < line.length; x++) {
      const w = mitchellRef((x + 0.5 - centre) / fscale);
      sum += w * line[x];
      total += w;
    }
    return sum / total;
  });
}

/** Horizontal then vertical pass in f64, each rounded and clamped to 8 bits. */
function mitchellReference(src: Image, width: number, height: number): Image {
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  const mid: number[][][] = []; // [channel][row][x]
  for (let c = 0; c < 4; c++) {
    mid.push([]);
    for (let y = 0; y < src.height; y++) {
      const line = Array.from(
        { length: src.width },
        (_, x) => src.data[(y * src.width + x) * 4 + c],
      );
      mid[c].push(refAxis(line, width).map(clamp));
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let c = 0; c < 4; c++) {
    for (let x = 0; x < width; x++) {
      const col = refAxis(mid[c].map((row) => row[x]), height).map(clamp);
      col.forEach((v, y) => data[(y * width + x) * 4 + c] = v);
    }
  }
  return { width, height, data };
}

Deno.test("mitchell: within 2 levels of an f64 reference, down, up and mixed", async () => {
  const src = await fixture("source.png");
  for (const [w, h] of SIZES) {
    const { max, psnr } = compare(resizeRgba(src, w, h, "mitchell"), mitchellReference(src, w, h));
    assert(max <= 2 && psnr >= 50, `mitchell ${w}x${h}: max ${max}, ${psnr.toFixed(1)} dB`);
  }
});

Deno.test("every kernel: a flat image stays flat, odd and tiny sizes, big ratios", () => {
  const flat: Image = { width: 9, height: 5, data: new Uint8Array(9 * 5 * 4).fill(77) };
  const noise = noiseImage(301, 7, 4);
  for (const kernel of KERNELS) {
    for (const [w, h] of [[1, 1], [2, 3], [40, 1], [31, 17], [300, 7]]) {
      assert(resizeRgba(flat, w, h, kernel).data.every((v) => v === 77), `${kernel} ${w}x${h}`);
    }
    // a 1x1 source filled everywhere; a 301-wide row to 1 pixel; a 7-pixel column to 700
    assert(
      resizeRgba({ width: 1, height: 1, data: new Uint8Array([9, 8, 7, 6]) }, 5, 4, kernel)
        .data.every((v, i) => v === [9, 8, 7, 6][i % 4]),
    );
    assertEquals(resizeRgba(noise, 1, 700, kernel).data.length, 700 * 4);
  }
});

Deno.test("an unknown kernel is refused by name", () => {
  let message = "";
  try {
    resizeRgba(noiseImage(4, 4), 2, 2, "bogus" as Kernel);
  } catch (error) {
    message = (error as Error).message;
  }
  assert(/unknown resize kernel "bogus"/.test(message), message);
});

Deno.test("axisWeights: kept across a run of photos of many heights", () => {
  const first = axisWeights(375, 512, "linear");
  for (let h = 200; h < 500; h++) axisWeights(h, 512, "linear");
  assert(axisWeights(375, 512, "linear") === first, "rebuilt after 300 other heights");
});

Deno.test("the default kernel: the same bytes as before --kernel existed", async () => {
  // SHA-256 of these outputs from main at 81bb575, before --kernel
  const parts: Uint8Array[] = [];
  const src = photoLikeImage(97, 61, 3);
  for (const [w, h] of [[40, 25], [200, 130], [97, 20], [13, 61], [150, 33], [1, 1], [300, 7]]) {
    parts.push(resizeRgba(src, w, h).data);
  }
  const jpeg = encodeJpegFast(photoLikeImage(640, 480, 5), 90);
  const steps: Step[][] = [
    [{ op: "resize", width: 512, height: 512, fit: "fill" }],
    [{ op: "resize", width: 100, height: 100, fit: "inside" }],
  ];
  for (const s of steps) parts.push(transcodeJpegFast(jpeg, s, 75, 1e8)!.bytes);
  assertEquals(
    await lengthAndHash(parts),
    [166396, "c3cc08049a356f060e9adc05571e708ee46b34a8c41597314bb5449ced5f9dba"],
  );
});

Deno.test("every kernel: the same bytes as before the horizontal pass by transposition", async () => {
  // SHA-256 of these outputs from main at 0f7f437 (gathering every output pixel's taps)
  const parts: Uint8Array[] = [];
  const src = photoLikeImage(203, 77, 9);
  for (const kernel of KERNELS) {
    for (const [w, h] of [[512, 300], [101, 38], [37, 150], [203, 20], [9, 77], [64, 33], [3, 2]]) {
      parts.push(resizeRgba(src, w, h, kernel).data);
    }
  }
  assertEquals(
    await lengthAndHash(parts),
    [3397180, "c9e543976290766e8b2719e61640bf65471ff8179ec0c8fb67830dd64493b270"],
  );
});

/** `weights`' bounds and weights copied into `a`: their offsets. */
function resident(a: Arena, weights: AxisWeights): [number, number] {
  const b = a.alloc(weights.bounds.byteLength), w = a.alloc(weights.weights.byteLength);
  const mem = a.view();
  mem.set(new Uint8Array(weights.bounds.buffer), b);
  mem.set(new Uint8Array(weights.weights.buffer), w);
  return [b, w];
}

/** Asserts that the `n` bytes at `one` and at `two` of `a`'s memory are the same. */
function assertSameBytes(a: Arena, one: number, two: number, n: number, what: string): void {
  const view = a.view();
  assertEquals(view.subarray(two, two + n), view.subarray(one, one + n), what);
}

Deno.test("resizeHT: the bytes of resizeH, any width, any number of rows", () => {
  const a = new Arena();
  const k = a.k;
  const cases = [[7, 1, 3], [40, 5, 13], [97, 33, 50], [33, 64, 9], [300, 70, 101], [64, 32, 17]];
  for (const [sw, rows, dw] of cases) {
    const src = a.load(noiseImage(sw, rows, sw + rows));
    for (const kernel of KERNELS) {
      const wx = axisWeights(sw, dw, kernel);
      const [b, w] = resident(a, wx);
      const one = a.alloc(dw * rows * 4), two = a.alloc(dw * rows * 4);
      const tmp = a.alloc((sw + dw + 8) * 128);
      k.resizeH(src.ptr, sw, rows, one, dw, b, w, wx.taps);
      k.resizeHT(src.ptr, sw, rows, two, dw, b, w, wx.taps, tmp);
      assertSameBytes(a, one, two, dw * rows * 4, `${sw}x${rows} → ${dw} ${kernel}`);
    }
  }
});

Deno.test("resizeV: two output rows at once, the bytes of one row at a time", () => {
  // resizeV pairs neighbouring output rows from 8 taps on; called for one row it never does
  const a = new Arena();
  const k = a.k;
  const cases = [[1, 30, 29], [3, 100, 33], [5, 60, 19], [33, 7, 8], [97, 77, 20], [300, 99, 7]];
  for (const [sw, sh, dh] of cases) {
    const src = a.load(noiseImage(sw, sh, sw + sh));
    for (const kernel of KERNELS) {
      const wy = axisWeights(sh, dh, kernel);
      const [b, w] = resident(a, wy);
      const row = sw * 4, one = a.alloc(row * dh), two = a.alloc(row * dh);
      k.resizeV(src.ptr, row, two, dh, b, w, wy.taps);
      for (let y = 0; y < dh; y++) {
        k.resizeV(src.ptr, row, one + y * row, 1, b + y * 4, w + y * wy.taps * 2, wy.taps);
      }
      assertSameBytes(a, one, two, row * dh, `${sw}x${sh} → ${dh} rows ${kernel}`);
    }
  }
});

Deno.test("resizeVHT: the bytes of resizeV then resizeHT", () => {
  const a = new Arena();
  const k = a.k;
  const cases = [[7, 40, 3, 33], [97, 77, 50, 32], [33, 200, 9, 70], [301, 150, 101, 64], [
    64,
    99,
    17,
    40,
  ]];
  for (const [sw, sh, dw, dh] of cases) {
    const src = a.load(noiseImage(sw, sh, sw + sh));
    for (const kernel of KERNELS) {
      const wx = axisWeights(sw, dw, kernel), wy = axisWeights(sh, dh, kernel);
      if (wx.taps < 4) continue;
      const [xb, xw] = resident(a, wx), [yb, yw] = resident(a, wy);
      const mid = a.alloc(sw * 4 * dh), one = a.alloc(dw * dh * 4), two = a.alloc(dw * dh * 4);
      const tmp = a.alloc((sw + dw + 8) * 128);
      k.resizeV(src.ptr, sw * 4, mid, dh, yb, yw, wy.taps);
      k.resizeHT(mid, sw, dh, one, dw, xb, xw, wx.taps, tmp);
      k.resizeVHT(src.ptr, sw, yb, yw, wy.taps, two, dw, dh, xb, xw, wx.taps, tmp);
      assertSameBytes(a, one, two, dw * dh * 4, `${sw}x${sh} → ${dw}x${dh} ${kernel}`);
    }
  }
});

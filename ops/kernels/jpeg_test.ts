// Tests of encodeJpegFast decoded with jpeg-js (pure JS, an independent
// decoder). Runs with no permission: `deno test ops/kernels/jpeg_test.ts`.
// The @jsquash (libjpeg-turbo/mozjpeg) decoder and the comparison with
// mozjpeg are in jpeg_mozjpeg_test.ts (they need --allow-read).
import jpeg from "jpeg-js";
import { assert, assertEquals } from "./test_assert.ts";
import type { Image } from "../image.ts";
import { encodeJpegFast } from "./mod.ts";
import { noiseImage, photoLikeImage, psnrRgb, smoothImage } from "./test_util.ts";

function decodeJpegJs(bytes: Uint8Array): Image {
  const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: d.width, height: d.height, data: new Uint8Array(d.data) };
}

/** Segments of a JPEG up to SOS: marker -> payload (without length). */
function segments(bytes: Uint8Array): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  let p = 2;
  while (p < bytes.length) {
    assertEquals(bytes[p], 0xff, `marker at ${p}`);
    const m = bytes[p + 1];
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    out.set(m, [...(out.get(m) ?? []), bytes.subarray(p + 4, p + 2 + len)]);
    p += 2 + len;
    if (m === 0xda) break;
  }
  return out;
}

const ZIGZAG = [
  0,
  1,
  8,
  16,
  9,
  2,
  3,
  10,
  17,
  24,
  32,
  25,
  18,
  11,
  4,
  5,
  12,
  19,
  26,
  33,
  40,
  48,
  41,
  34,
  27,
  20,
  13,
  6,
  7,
  14,
  21,
  28,
  35,
  42,
  49,
  56,
  57,
  50,
  43,
  36,
  29,
  22,
  15,
  23,
  30,
  37,
  44,
  51,
  58,
  59,
  52,
  45,
  38,
  31,
  39,
  46,
  53,
  60,
  61,
  54,
  47,
  55,
  62,
  63,
];
// ITU T.81 Table K.1 and K.2
const K1 = [
  [16, 11, 10, 16, 24, 40, 51, 61],
  [12, 12, 14, 19, 26, 58, 60, 55],
  [14, 13, 16, 24, 40, 57, 69, 56],
  [14, 17, 22, 29, 51, 87, 80, 62],
  [18, 22, 37, 56, 68, 109, 103, 77],
  [24, 35, 55, 64, 81, 104, 113, 92],
  [49, 64, 78, 87, 103, 121, 120, 101],
  [72, 92, 95, 98, 112, 100, 103, 99],
].flat();
const K2 = [
  [17, 18, 24, 47, 99, 99, 99, 99],
  [18, 21, 26, 66, 99, 99, 99, 99],
  [24, 26, 56, 99, 99, 99, 99, 99],
  [47, 66, 99, 99, 99, 99, 99, 99],
].flat().concat(new Array(32).fill(99));

function libjpegTable(base: number[], quality: number): number[] {
  const scale = quality < 50 ? Math.trunc(5000 / quality) : 200 - 2 * quality;
  return base.map((b) => Math.min(255, Math.max(1, Math.trunc((b * scale + 50) / 100))));
}

Deno.test("jpeg: JFIF structure, SOF0 4:2:0, quantization tables as libjpeg scales them", () => {
  for (const q of [1, 10, 25, 49, 50, 51, 75, 90, 100]) {
    const bytes = encodeJpegFast(smoothImage(40, 30), q);
    assertEquals(Array.from(bytes.subarray(0, 2)), [0xff, 0xd8]);
    assertEquals(Array.from(bytes.subarray(-2)), [0xff, 0xd9]);
    const seg = segments(bytes);
    const app0 = seg.get(0xe0)![0];
    assertEquals(new TextDecoder().decode(app0.subarray(0, 5)), "JFIF\0");
    const sof = seg.get(0xc0)![0];
    assertEquals(Array.from(sof), [
      8,
      0,
      30,
      0,
      40,
      3,
      1,
      0x22,
      0,
      2,
      0x11,
      1,
      3,
      0x11,
      1,
    ]);
    const dqt = seg.get(0xdb)![0];
    assertEquals(dqt.length, 130);
    assertEquals([dqt[0], dqt[65]], [0, 1]);
    const luma = libjpegTable(K1, q), chroma = libjpegTable(K2, q);
    assertEquals(
      Array.from(dqt.subarray(1, 65)),
      ZIGZAG.map((n) => luma[n]),
      `luma q${q}`,
    );
    assertEquals(
      Array.from(dqt.subarray(66, 130)),
      ZIGZAG.map((n) => chroma[n]),
      `chroma q${q}`,
    );
  }
  // spot values: q50 is Annex K itself, q100 is all ones
  const dqt50 = segments(encodeJpegFast(smoothImage(8, 8), 50)).get(0xdb)![0];
  assertEquals(Array.from(dqt50.subarray(1, 4)), [16, 11, 12]);
  const dqt100 = segments(encodeJpegFast(smoothImage(8, 8), 100)).get(0xdb)![0];
  assert(dqt100.subarray(1, 65).every((v) => v === 1));
});

Deno.test("jpeg: decodes with jpeg-js at many sizes, both Huffman modes", () => {
  const sizes = [
    [1, 1],
    [2, 3],
    [7, 5],
    [8, 8],
    [16, 16],
    [17, 33],
    [333, 250],
    [512, 512],
  ];
  for (const [w, h] of sizes) {
    const src = photoLikeImage(w, h, w + h);
    for (const optimizeHuffman of [true, false]) {
      for (const q of [50, 90]) {
        const bytes = encodeJpegFast(src, q, { optimizeHuffman });
        const out = decodeJpegJs(bytes);
        assertEquals([out.width, out.height], [w, h]);
        const p = psnrRgb(src.data, out.data);
        // tiny random-coloured images lose most of their chroma to 4:2:0 (mozjpeg
        // scores the same there: ~15 dB)
        const min = w * h < 1000 ? 13 : q === 90 ? 33 : 31;
        assert(
          p >= min,
          `${w}x${h} q${q} opt=${optimizeHuffman}: PSNR ${p.toFixed(2)}`,
        );
      }
    }
  }
});

Deno.test("jpeg: flat colours come back close, alpha ignored", () => {
  for (
    const rgb of [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [
      0,
      0,
      0,
    ], [128, 64, 200]]
  ) {
    const src = { width: 21, height: 13, data: new Uint8Array(21 * 13 * 4) };
    for (let i = 0; i < src.data.length; i += 4) {
      src.data.set([...rgb, i % 256], i);
    }
    const out = decodeJpegJs(encodeJpegFast(src, 95));
    for (let i = 0; i < out.data.length; i += 4) {
      for (let c = 0; c < 3; c++) {
        assert(
          Math.abs(out.data[i + c] - rgb[c]) <= 3,
          `${rgb} -> ${Array.from(out.data.subarray(i, i + 3))}`,
        );
      }
    }
  }
});

Deno.test("jpeg: quality is monotonic in size and fidelity; optimized Huffman is smaller", () => {
  const src = photoLikeImage(200, 150, 3);
  let lastSize = 0, lastPsnr = 0;
  for (const q of [10, 30, 50, 75, 90, 100]) {
    const bytes = encodeJpegFast(src, q);
    const p = psnrRgb(src.data, decodeJpegJs(bytes).data);
    assert(
      bytes.length > lastSize && p > lastPsnr,
      `q${q}: ${bytes.length} bytes, ${p.toFixed(2)} dB`,
    );
    lastSize = bytes.length;
    lastPsnr = p;
    assert(
      bytes.length <= encodeJpegFast(src, q, { optimizeHuffman: false }).length,
    );
  }
});

/**
 * The best any 4:2:0 JPEG can do: exact luma, each 2x2 block's mean chroma
 * (replicated back), in floating point, rounded to RGB once.
 */
function ideal420(src: Image): Uint8Array {
  const { width: w, height: h, data } = src;
  const out = new Uint8Array(data.length);
  const ycc = (i: number) => {
    const r = data[4 * i], g = data[4 * i + 1], b = data[4 * i + 2];
    return [
      0.299 * r + 0.587 * g + 0.114 * b,
      -0.168736 * r - 0.331264 * g + 0.5 * b,
      0.5 * r - 0.418688 * g - 0.081312 * b,
    ];
  };
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const x0 = x & ~1, y0 = y & ~1;
      let cb = 0, cr = 0;
      for (const i of [y0 * w + x0, y0 * w + x0 + 1, (y0 + 1) * w + x0, (y0 + 1) * w + x0 + 1]) {
        const [, b, r] = ycc(i);
        cb += b / 4;
        cr += r / 4;
      }
      const [luma] = ycc(y * w + x), o = 4 * (y * w + x);
      out[o] = clamp(luma + 1.402 * cr);
      out[o + 1] = clamp(luma - 0.344136 * cb - 0.714136 * cr);
      out[o + 2] = clamp(luma + 1.772 * cb);
      out[o + 3] = 255;
    }
  }
  return out;
}

Deno.test("jpeg: worst case noise at quality 100 fits, decodes, and loses only what 4:2:0 must", () => {
  const src = noiseImage(64, 48, 99);
  const bytes = encodeJpegFast(src, 100);
  const p = psnrRgb(src.data, decodeJpegJs(bytes).data);
  // 4:2:0 chroma subsampling of pure noise limits fidelity to ~13 dB; at quality 100 (every
  // step 1) nothing else may be lost (quality 90 is already 0.09 dB lower).
  const bound = psnrRgb(src.data, ideal420(src));
  assert(p > bound - 0.03, `PSNR ${p.toFixed(3)} dB, the 4:2:0 bound ${bound.toFixed(3)} dB`);
  assertEquals(encodeJpegFast(src, 100), bytes, "deterministic");
});

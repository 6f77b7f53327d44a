// decodeJpegFast against MozJPEG's decoder (@jsquash/jpeg, libjpeg-turbo
// based, default islow IDCT and fancy upsampling): on baseline files of every
// supported kind (gray, 4:4:4, 4:2:2, 4:2:0, restart markers, odd sizes,
// qualities 5..100) the pixels agree to within 2 (in practice exactly), and
// everything unsupported or damaged gives null instead of wrong pixels.
// Needs --allow-read (@jsquash loads its .wasm files; fixtures).
import decodeMozjpeg from "@jsquash/jpeg/decode.js";
import encodeMozjpeg from "@jsquash/jpeg/encode.js";
import { defaultOptions } from "@jsquash/jpeg/meta.js";
import type { Image } from "../image.ts";
import { decodeJpegFast } from "./jpeg_decode.ts";
import { encodeJpegFast } from "./mod.ts";
import { assert, assertEquals } from "./test_assert.ts";
import { photoLikeImage, rng } from "./test_util.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../../tests/fixtures/${name}`, import.meta.url));

async function decodeReference(bytes: Uint8Array): Promise<Image> {
  const d = await decodeMozjpeg(bytes.slice().buffer);
  return { width: d.width, height: d.height, data: new Uint8Array(d.data.buffer) };
}

type MozOptions = typeof defaultOptions;

/** A sequential (baseline) JPEG from MozJPEG's encoder. */
async function mozjpegBaseline(img: Image, options: Partial<MozOptions>): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length);
  const imageData = { width: img.width, height: img.height, data, colorSpace: "srgb" } as ImageData;
  const bytes = new Uint8Array(
    await encodeMozjpeg(imageData, { ...defaultOptions, progressive: false, ...options }),
  );
  return bytes;
}

/** The frame marker (0xC0..0xCF) of a JPEG. */
function frameMarker(b: Uint8Array): number {
  for (let i = 2; i + 4 < b.length;) {
    const m = b[i + 1];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return m;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return -1;
}

/** A copy of a JPEG with its frame marker replaced. */
function withFrameMarker(b: Uint8Array, marker: number): Uint8Array {
  const out = b.slice();
  const i = out.findIndex((v, i) => v === 0xff && out[i + 1] === frameMarker(b));
  out[i + 1] = marker;
  return out;
}

/** Decodes with both decoders and checks the pixels; returns the max difference. */
async function assertMatchesReference(bytes: Uint8Array, what: string): Promise<number> {
  const ours = decodeJpegFast(bytes);
  assert(ours !== null, `${what}: unexpectedly unsupported`);
  const ref = await decodeReference(bytes);
  assertEquals([ours.width, ours.height], [ref.width, ref.height], what);
  let max = 0;
  for (let i = 0; i < ref.data.length; i++) {
    max = Math.max(max, Math.abs(ours.data[i] - ref.data[i]));
  }
  assert(max <= 2, `${what}: max difference ${max} > 2`);
  return max;
}

Deno.test("decodeJpegFast: our own encoder's 4:2:0 files, odd sizes", async () => {
  for (const [w, h] of [[5, 3], [17, 15], [61, 45], [333, 250]]) {
    const src = photoLikeImage(w, h, 3 * w + h);
    for (const q of [30, 90]) {
      await assertMatchesReference(encodeJpegFast(src, q), `${w}x${h} q${q}`);
    }
  }
});

Deno.test("decodeJpegFast: MozJPEG baseline gray, 4:4:4, 4:2:0 at qualities 5..100", async () => {
  const src = photoLikeImage(77, 51, 5);
  const frames = new Set<number>();
  for (const quality of [5, 75, 100]) {
    for (
      const [kind, opts] of [
        ["gray", { color_space: 1 }],
        ["4:4:4", { auto_subsample: false, chroma_subsample: 1 }],
        ["4:2:0", { auto_subsample: false, chroma_subsample: 2 }],
      ] as [string, Partial<MozOptions>][]
    ) {
      const bytes = await mozjpegBaseline(src, { quality, ...opts });
      // SOF1 (extended sequential) where quality 5 needs quantizers over 255
      const sof = frameMarker(bytes);
      assert(sof === 0xc0 || sof === 0xc1, `${kind} q${quality} is sequential`);
      frames.add(sof);
      await assertMatchesReference(bytes, `mozjpeg ${kind} q${quality}`);
    }
  }
  assertEquals([...frames].sort(), [0xc0, 0xc1], "both SOF0 and SOF1 files were tested");
});

Deno.test("decodeJpegFast: cjpeg fixtures: baseline, gray, restart markers, 4:2:2", async () => {
  for (
    const name of [
      "quad_baseline.jpg",
      "quad_gray.jpg",
      "texture_420_rst1.jpg",
      "texture_422_rst1b.jpg",
    ]
  ) {
    await assertMatchesReference(fixture(name), name);
  }
});

Deno.test("decodeJpegFast: unsupported kinds give null", async () => {
  const src = photoLikeImage(40, 30, 9);
  const cases: [string, Uint8Array][] = [
    // (progressive and 4-component files: see jpeg_progressive_test.ts)
    ["not a JPEG", fixture("not_an_image.jpg")],
    ["PNG", fixture("quad.png")],
    ["empty", new Uint8Array()],
    ["arithmetic (SOF9)", withFrameMarker(fixture("quad_baseline.jpg"), 0xc9)],
    ["lossless (SOF3)", withFrameMarker(fixture("quad_baseline.jpg"), 0xc3)],
    ["RGB", await mozjpegBaseline(src, { color_space: 2 })],
    // libjpeg upsamples chroma 2 samples wide or less plainly, not fancy
    ["4:2:0 4 pixels wide", encodeJpegFast(photoLikeImage(4, 9), 90)],
  ];
  for (const [what, bytes] of cases) {
    assertEquals(decodeJpegFast(bytes), null, what);
  }
});

Deno.test("decodeJpegFast: truncated or damaged data gives null or an image, never throws", () => {
  const good = fixture("texture_422_rst1b.jpg");
  // cut anywhere in the entropy data (or just before EOI): null
  for (const cut of [good.length - 2, good.length - 40, good.length >> 1, 400]) {
    assertEquals(decodeJpegFast(good.subarray(0, cut)), null, `cut at ${cut}`);
  }
  // a wrong restart marker number: null (libjpeg would resynchronize and warn)
  const rst = good.findIndex((v, i) => v === 0xff && good[i + 1] === 0xd3);
  assert(rst > 0, "fixture has RST3");
  const badRst = good.slice();
  badRst[rst + 1] = 0xd5;
  assertEquals(decodeJpegFast(badRst), null, "RST3 -> RST5");
  // a Huffman table with more codes than fit: null
  const dht = good.findIndex((v, i) => v === 0xff && good[i + 1] === 0xc4);
  const badDht = good.slice();
  badDht[dht + 5] = 3; // three 1-bit codes
  assertEquals(decodeJpegFast(badDht), null, "over-subscribed Huffman table");
  // random damage in the entropy data: no exception, null or a full image
  const r = rng(42);
  const sos = good.findIndex((v, i) => v === 0xff && good[i + 1] === 0xda);
  for (let n = 0; n < 60; n++) {
    const bad = good.slice();
    const at = sos + 14 + Math.floor(r() * (good.length - sos - 16));
    bad[at] = Math.floor(r() * 256);
    const img = decodeJpegFast(bad);
    if (img) assertEquals([img.width, img.height, img.data.length], [61, 45, 61 * 45 * 4]);
  }
});

/** Each `n`x`n` cell's mean (cells cut at the edges), per RGBA channel. */
function cellMeans(img: Image, n: number): Image {
  const width = Math.ceil(img.width / n), height = Math.ceil(img.height / n);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0, count = 0;
        for (let yy = y * n; yy < Math.min(img.height, y * n + n); yy++) {
          for (let xx = x * n; xx < Math.min(img.width, x * n + n); xx++) {
            sum += img.data[(yy * img.width + xx) * 4 + c];
            count++;
          }
        }
        data[(y * width + x) * 4 + c] = Math.round(sum / count);
      }
    }
  }
  return { width, height, data };
}

Deno.test("decodeJpegFastAt at 1/8, 1/4, 1/2: close to the cell means of the full decode", async () => {
  const { Arena } = await import("./mod.ts");
  const { decodeJpegFastAt } = await import("./jpeg_decode.ts");
  const { psnrRgb } = await import("./test_util.ts");
  const cases: [string, Uint8Array, number][] = [
    ["4:2:0 1600x1200", encodeJpegFast(photoLikeImage(1600, 1200, 5), 85), 35],
    ["4:2:0 803x597 (partial blocks)", encodeJpegFast(photoLikeImage(803, 597, 6), 85), 35],
    ["4:2:0 61x45 with restart markers", fixture("texture_420_rst1.jpg"), 24],
    ["4:2:2 61x45 with restart markers", fixture("texture_422_rst1b.jpg"), 24],
    ["gray 64x48", fixture("quad_gray.jpg"), 40],
  ];
  for (const [name, bytes, minPsnr] of cases) {
    const full = decodeJpegFast(bytes)!;
    for (const scale of [8, 4, 2] as const) {
      const a = new Arena();
      const r = decodeJpegFastAt(a, bytes, scale);
      assert(r !== null, name);
      const small = a.take(r!);
      assertEquals([small.width, small.height], [
        Math.ceil(full.width / scale),
        Math.ceil(full.height / scale),
      ]);
      const psnr = psnrRgb(cellMeans(full, scale).data, small.data);
      assert(psnr >= minPsnr, `${name} at 1/${scale}: PSNR ${psnr.toFixed(1)} dB`);
    }
  }
  // (exactness against libjpeg's scaled decoding: jpeg_scaled_test.ts)
});

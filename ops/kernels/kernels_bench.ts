// Microbenchmarks at the pipeline's typical size: a 500x375 image resized to
// 512x512 and encoded. Run: deno bench --allow-read ops/kernels/kernels_bench.ts
// (--allow-read only for the @jsquash comparisons, which load their wasm).
import decodeMozjpeg from "@jsquash/jpeg/decode.js";
import encodeMozjpeg from "@jsquash/jpeg/encode.js";
import resizeJsquash from "@jsquash/resize";
import { encodeJpegFast, flipRgba, grayRgba, resizeRgba, thresholdRgba } from "./mod.ts";
import { decodeJpegFast } from "./jpeg_decode.ts";
import { photoLikeImage } from "./test_util.ts";

const src = photoLikeImage(500, 375);
const big = resizeRgba(src, 512, 512);
const asImageData = (
  img: { width: number; height: number; data: Uint8Array },
) =>
  ({
    width: img.width,
    height: img.height,
    data: new Uint8ClampedArray(
      img.data.buffer,
      img.data.byteOffset,
      img.data.length,
    ),
    colorSpace: "srgb",
  }) as ImageData;

Deno.bench("resize 500x375->512x512: zpix wasm simd", {
  group: "resize",
  baseline: true,
}, () => {
  resizeRgba(src, 512, 512);
});
Deno.bench("resize 500x375->512x512: @jsquash/resize triangle", {
  group: "resize",
}, async () => {
  await resizeJsquash(asImageData(src), {
    width: 512,
    height: 512,
    method: "triangle",
  });
});
Deno.bench("resize 500x375->512x512: @jsquash/resize default (lanczos3)", {
  group: "resize",
}, async () => {
  await resizeJsquash(asImageData(src), { width: 512, height: 512 });
});
Deno.bench("resize 2000x1500->512x384 (downscale): zpix wasm simd", {
  group: "downscale",
}, () => {
  resizeRgba(bigSrc, 512, 384);
});
const bigSrc = photoLikeImage(2000, 1500);

Deno.bench("gray 512x512", { group: "pixel" }, () => {
  grayRgba(big);
});
Deno.bench("threshold 512x512", { group: "pixel" }, () => {
  thresholdRgba(big, 127);
});
Deno.bench("flip hv 512x512", { group: "pixel" }, () => {
  flipRgba(big, "hv");
});

Deno.bench("jpeg encode 512x512 q75: zpix (optimized Huffman)", {
  group: "encode",
  baseline: true,
}, () => {
  encodeJpegFast(big, 75);
});
Deno.bench("jpeg encode 512x512 q75: zpix (standard Huffman)", {
  group: "encode",
}, () => {
  encodeJpegFast(big, 75, { optimizeHuffman: false });
});
Deno.bench("jpeg encode 512x512 q75: mozjpeg (@jsquash/jpeg defaults)", {
  group: "encode",
}, async () => {
  await encodeMozjpeg(asImageData(big), { quality: 75 });
});

// a baseline 4:2:0 file like the photos the pipeline reads
const srcJpeg = encodeJpegFast(src, 85);
Deno.bench("jpeg decode 500x375 baseline 4:2:0: zpix (decodeJpegFast)", {
  group: "decode",
  baseline: true,
}, () => {
  decodeJpegFast(srcJpeg);
});
Deno.bench("jpeg decode 500x375 baseline 4:2:0: mozjpeg (@jsquash/jpeg)", {
  group: "decode",
}, async () => {
  await decodeMozjpeg(srcJpeg.slice().buffer);
});

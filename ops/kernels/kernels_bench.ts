// Microbenchmarks at the pipeline's typical size: a 500x375 image resized to
// 512x512 and encoded; and JPEG decoding of large photos, baseline against
// progressive, and of CMYK. Run: deno bench --allow-read ops/kernels/kernels_bench.ts
// (--allow-read only for the @jsquash comparisons, which load their wasm).
import decodeMozjpeg from "@jsquash/jpeg/decode.js";
import encodeMozjpeg from "@jsquash/jpeg/encode.js";
import resizeJsquash from "@jsquash/resize";
import { encodeJpegFast, flipRgba, grayRgba, resizeRgba, thresholdRgba } from "./mod.ts";
import { decodeJpegFast } from "./jpeg_decode.ts";
import { photoLikeImage, rng } from "./test_util.ts";
import { defaultOptions as mozDefaults } from "@jsquash/jpeg/meta.js";
import { decodeCmykJpeg } from "../cmyk.ts";
import decodeJpegJs from "jpeg-js/lib/decoder.js";

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

// Large photos, baseline against progressive (the same picture, MozJPEG's
// encoder with progressive off and on, 4:2:0 q90): a Flickr photo from
// ../shared/datasets/photos (if there) upscaled to 3840x2400 with mild noise
// for texture, else a generated photo-like image.
const largeSource = (() => {
  let small;
  try {
    const url = new URL("../../../shared/datasets/photos/photo0010.jpg", import.meta.url);
    small = decodeJpegFast(Deno.readFileSync(url));
  } catch {
    small = null;
  }
  if (!small) return photoLikeImage(3840, 2400);
  const big = resizeRgba(small, 3840, 2400);
  const r = rng(3);
  for (let i = 0; i < big.data.length; i++) {
    if ((i & 3) !== 3) big.data[i] = Math.max(0, Math.min(255, big.data[i] + (r() - 0.5) * 16));
  }
  return big;
})();
const largeJpeg = async (progressive: boolean) =>
  new Uint8Array(
    await encodeMozjpeg(asImageData(largeSource), {
      ...mozDefaults,
      quality: 90,
      progressive,
      auto_subsample: false,
      chroma_subsample: 2,
    }),
  );
const largeBaseline = await largeJpeg(false), largeProgressive = await largeJpeg(true);
const largeCmyk = (() => {
  try {
    return Deno.readFileSync(
      new URL("../../tests/fixtures/texture_cmyk_prog.jpg", import.meta.url),
    );
  } catch {
    return null;
  }
})();
Deno.bench(`jpeg decode 3840x2400 baseline (${largeBaseline.length} B): zpix`, {
  group: "decode large",
  baseline: true,
}, () => {
  decodeJpegFast(largeBaseline);
});
Deno.bench(`jpeg decode 3840x2400 progressive (${largeProgressive.length} B): zpix`, {
  group: "decode large",
}, () => {
  decodeJpegFast(largeProgressive);
});
Deno.bench("jpeg decode 3840x2400 progressive: mozjpeg (@jsquash/jpeg)", {
  group: "decode large",
}, async () => {
  await decodeMozjpeg(largeProgressive.slice().buffer);
});
if (largeCmyk) {
  Deno.bench("jpeg decode 61x45 CMYK progressive: zpix", { group: "cmyk" }, () => {
    decodeJpegFast(largeCmyk);
  });
  Deno.bench("jpeg decode 61x45 CMYK progressive: jpeg-js (the fallback)", {
    group: "cmyk",
  }, () => {
    decodeCmykJpeg(decodeJpegJs, largeCmyk, 1e8);
  });
}

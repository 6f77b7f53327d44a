/**
 * Every npm module that zpix loads with `importNpm` (`npm.ts`), imported
 * here literally so that `deno compile --include ops/npm_roots.ts` embeds
 * them. Never imported by zpix itself: `deno run` would then resolve them
 * all at start-up, which is what `importNpm` avoids.
 *
 * @module
 */

import "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs";
import "@jsquash/avif/codec/dec/avif_dec.js";
import "@jsquash/avif/codec/enc/avif_enc.js";
import "@jsquash/avif/meta.js";
import "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import "@jsquash/jpeg/codec/enc/mozjpeg_enc.js";
import "@jsquash/jpeg/meta.js";
import "@jsquash/jpeg/utils.js";
import "@jsquash/png/codec/pkg/squoosh_png.js";
import "@jsquash/webp/codec/dec/webp_dec.js";
import "@jsquash/webp/codec/enc/webp_enc_simd.js";
import "@jsquash/webp/meta.js";
import "jpeg-js/lib/decoder.js";
import "lcms-wasm";
import "libheif-js/libheif-wasm/libheif.js";
import "omggif";
import "picomatch";

/**
 * The formats table and every codec against references made at development
 * time by the formats' own tools (tests/fixtures/make_formats.py): Pillow's
 * libjpeg-turbo/libpng, dwebp, heif-convert (libheif, which applies the
 * container's transforms) for pixels, and Pillow's ImageCms (LittleCMS) for
 * the conversion of each ICC profile to sRGB. Nothing here compares zpix
 * with itself, except the WebP/AVIF encoders' round trips (decoded by the
 * decoders checked above; `cwebp`/`avifdec` were run on such outputs at
 * development time).
 */

import assert from "node:assert/strict";
import { decodeImage } from "./codec.ts";
import {
  type Format,
  formatForName,
  formatOfExtension,
  outputExtension,
  readDimensions,
  sameFormat,
  sniffFormat,
  WRITABLE_FORMATS,
} from "./formats.ts";
import { decodeAny, embedIcc, encodeAny, readIcc } from "./format_io.ts";
import { transcodeJpegFast } from "./transcode.ts";
import { srgbConverter } from "./color.ts";
import { readJpegIcc } from "./icc.ts";
import type { Image } from "./image.ts";
import { photoLikeImage, psnrRgb, psnrRgba } from "./kernels/test_util.ts";

const DIR = new URL("../tests/fixtures/formats/", import.meta.url);
const read = (name: string) => Deno.readFileSync(new URL(name, DIR));
const expected = async (name: string): Promise<Image> =>
  (await decodeImage(read(`expected/${name}.png`))).image;

/**
 * Each fixture: its format, size, and the least PSNR (dB, RGB) of zpix's
 * sRGB pixels against the reference. Measured: bit-exact (Infinity) for all
 * but HEIC (libheif 1.23 here vs Debian's 1.15: ~55-59 dB).
 */
const FIXTURES: [string, Format, number, number, number][] = [
  ["jpeg_prophoto.jpg", "jpeg", 64, 48, 50],
  ["jpeg_adobergb.jpg", "jpeg", 64, 48, 50],
  ["jpeg_srgb_icc.jpg", "jpeg", 64, 48, 50],
  // Adobe CMYK inks through their (dense-black) CMYK profile, as Pillow + LittleCMS convert them
  ["jpeg_cmyk_dense.jpg", "jpeg", 64, 48, 50],
  ["png_p3.png", "png", 64, 48, 50],
  ["webp_lossy.webp", "webp", 64, 48, 50],
  ["webp_alpha.webp", "webp", 64, 48, 50],
  ["webp_p3.webp", "webp", 64, 48, 50],
  ["webp_anim.webp", "webp", 64, 48, 50],
  ["avif_plain.avif", "avif", 64, 48, 50],
  ["avif_adobergb.avif", "avif", 64, 48, 50],
  ["avif_rotated.avif", "avif", 48, 64, 50],
  ["avif_cropped.avif", "avif", 40, 32, 50],
  ["avif_p3_nclx.avif", "avif", 64, 48, 45],
  // irot (90 degrees clockwise) and EXIF orientation 6: turned once, as libheif shows it
  ["avif_irot_exif6.avif", "avif", 48, 64, 50],
  ["heic_plain.heic", "heic", 64, 48, 45],
  ["heic_prophoto.heic", "heic", 64, 48, 45],
  // an iPhone's layout: irot 3 and EXIF orientation 6 (libheif turns it; EXIF not applied again)
  ["heic_irot_exif6.heic", "heic", 48, 64, 45],
  ["gif_anim.gif", "gif", 64, 48, 50],
];

Deno.test("formats: each fixture is sniffed by content and decodes to the reference's sRGB pixels", async () => {
  for (const [name, format, width, height, least] of FIXTURES) {
    const bytes = read(name);
    assert.equal(sniffFormat(bytes), format, name);
    const decoded = await decodeAny(bytes);
    assert.equal(decoded.format, format, name);
    const ref = await expected(name);
    assert.deepEqual([decoded.image.width, decoded.image.height], [width, height], name);
    assert.deepEqual([ref.width, ref.height], [width, height], name);
    const psnr = psnrRgb(decoded.image.data, ref.data);
    assert.ok(psnr >= least, `${name}: ${psnr.toFixed(1)} dB < ${least}`);
    if (/^(webp_alpha|webp_anim|gif_anim)/.test(name)) {
      assert.ok(psnrRgba(decoded.image.data, ref.data) >= least, `${name}: alpha`);
    }
  }
});

Deno.test("formats: a CMYK JPEG's profile is converted through even with keepIcc (outputs are RGB)", async () => {
  const name = "jpeg_cmyk_dense.jpg";
  const kept = await decodeAny(read(name), { keepIcc: true });
  assert.equal(kept.icc, null);
  assert.deepEqual(kept.warnings, ["CMYK ICC profile not kept (the output is RGB)"]);
  assert.deepEqual(kept.image, (await decodeAny(read(name))).image);
  // the inks' naive RGB (the profile ignored) is far from them: 18.8 dB
  const naive = await decodeImage(read(name));
  assert.ok(psnrRgb(naive.image.data, (await expected(name)).data) < 20);
});

Deno.test("formats: without conversion a profiled image is far from its true colours (what --keep-icc keeps)", async () => {
  // The colour error the conversion removes: 17 dB for ProPhoto, 21 for Adobe RGB, 23 for P3.
  const cases: [string, number][] = [
    ["jpeg_prophoto.jpg", 20],
    ["jpeg_adobergb.jpg", 25],
    ["png_p3.png", 26],
    ["webp_p3.webp", 26],
    ["avif_adobergb.avif", 25],
    ["avif_p3_nclx.avif", 26],
    ["heic_prophoto.heic", 20],
  ];
  for (const [name, below] of cases) {
    const kept = await decodeAny(read(name), { keepIcc: true });
    assert.ok(kept.icc && kept.icc.length > 100, `${name}: profile returned`);
    const psnr = psnrRgb(kept.image.data, (await expected(name)).data);
    assert.ok(psnr < below, `${name}: ${psnr.toFixed(1)} dB unconverted`);
    const converted = await decodeAny(read(name));
    assert.equal(converted.icc, null);
    assert.ok(converted.notes.some((n) => /converted from ICC profile/.test(n)), name);
  }
});

Deno.test("formats: sRGB and missing profiles are left alone", async () => {
  for (const name of ["jpeg_srgb_icc.jpg", "webp_lossy.webp", "avif_plain.avif", "gif_anim.gif"]) {
    const d = await decodeAny(read(name));
    assert.ok(!d.notes.some((n) => /ICC/.test(n)), `${name}: ${d.notes}`);
  }
});

Deno.test("formats: the fused JPEG path converts a non-sRGB profile only when given the converter", async () => {
  const steps = [{ op: "flip" as const, axis: "h" as const }, {
    op: "flip" as const,
    axis: "h" as const,
  }];
  assert.equal(transcodeJpegFast(read("jpeg_prophoto.jpg"), steps, 90, 1e8), null);
  assert.equal(transcodeJpegFast(read("jpeg_adobergb.jpg"), steps, 90, 1e8), null);
  assert.notEqual(transcodeJpegFast(read("jpeg_srgb_icc.jpg"), steps, 90, 1e8), null);
  assert.equal(await srgbConverter(readJpegIcc(read("jpeg_srgb_icc.jpg"))), null);
  for (const name of ["jpeg_prophoto.jpg", "jpeg_adobergb.jpg"]) {
    const bytes = read(name);
    const toSrgb = await srgbConverter(readJpegIcc(bytes));
    assert.ok(toSrgb, name);
    const fused = transcodeJpegFast(bytes, steps, 90, 1e8, toSrgb)!;
    assert.ok(fused, name);
    const out = (await decodeImage(fused.bytes)).image;
    const psnr = psnrRgb(out.data, (await expected(name)).data);
    assert.ok(psnr >= 30, `${name}: ${psnr.toFixed(1)} dB`);
  }
});

Deno.test("formats: header sizes without decoding, and the pixel limit before decoding", async () => {
  for (const [name, , width, height] of FIXTURES) {
    const size = readDimensions(read(name));
    assert.ok(size, name);
    // the header gives the stored size (AVIF's irot/clap apply after)
    if (!/^(avif_(rotated|cropped|irot)|heic_irot)/.test(name)) {
      assert.deepEqual([size.width, size.height], [width, height], name);
    }
    if (name.startsWith("jpeg") || name.startsWith("png")) continue;
    await assert.rejects(decodeAny(read(name), { maxPixels: 100 }), /over the limit/, name);
  }
});

Deno.test("formats: names and extensions follow the table", () => {
  assert.equal(formatOfExtension("a/B.WEBP"), "webp");
  assert.equal(formatOfExtension("x.heif"), "heic");
  assert.equal(formatOfExtension("x.tiff"), null);
  assert.equal(formatForName("x.AVIF"), "avif");
  assert.equal(formatForName("x.heic"), null); // no HEIC encoder
  assert.deepEqual(WRITABLE_FORMATS, ["jpeg", "png", "webp", "avif"]);
  assert.equal(sameFormat("gif"), "png");
  assert.equal(sameFormat("heic"), "jpeg");
  assert.equal(sameFormat("webp"), "webp");
  assert.equal(outputExtension("avif"), ".avif");
});

Deno.test("formats: WebP and AVIF outputs decode back close to their source, alpha kept", async () => {
  const src = photoLikeImage(96, 64);
  for (let i = 3; i < src.data.length; i += 4) src.data[i] = (i >> 2) % 96 < 48 ? 255 : 128;
  for (const [format, least] of [["webp", 30], ["avif", 28]] as const) {
    const bytes = await encodeAny(src, format, { quality: 75 });
    assert.equal(sniffFormat(bytes), format);
    const back = await decodeAny(bytes);
    assert.deepEqual([back.image.width, back.image.height], [96, 64]);
    const psnr = psnrRgb(back.image.data, src.data);
    assert.ok(psnr >= least, `${format}: ${psnr.toFixed(1)} dB`);
    assert.equal(back.image.data[3], 255);
    assert.ok(Math.abs(back.image.data[4 * 50 + 3] - 128) <= 4, `${format}: alpha`);
  }
  await assert.rejects(encodeAny(src, "webp", { quality: 0 }), RangeError);
});

Deno.test("formats: --keep-icc writes the profile into JPEG, PNG, WebP and AVIF outputs", async () => {
  const icc = read("prophoto.icc");
  const image = photoLikeImage(16, 16);
  for (const format of ["jpeg", "png", "webp", "avif"] as const) {
    const plain = await encodeAny(image, format, { quality: 75 });
    const kept = await embedIcc(plain, format, icc);
    assert.equal(kept.warning, null);
    assert.deepEqual(await readIcc(kept.bytes, format), icc, format);
    // still a valid file of its format, with the same pixels
    const a = await decodeAny(plain), b = await decodeAny(kept.bytes, { keepIcc: true });
    assert.deepEqual(b.image.data, a.image.data, format);
  }
});

Deno.test("formats: codecs and LittleCMS load only when an image needs them", async () => {
  // A process that may read the fixtures but not node_modules: a baseline JPEG without a
  // profile, or with an sRGB one, needs nothing from there; a ProPhoto one needs LittleCMS.
  const root = new URL("..", import.meta.url);
  const script = `
    import { decodeAny } from "./ops/format_io.ts";
    const dir = ${JSON.stringify(new URL("tests/fixtures/formats/", root).pathname)};
    for (const name of ["jpeg_srgb_icc.jpg", "../orient_1.jpg", "jpeg_prophoto.jpg"]) {
      try {
        const d = await decodeAny(Deno.readFileSync(dir + name));
        console.log(name, "ok", d.image.width);
      } catch (e) {
        console.log(name, "failed", e.message);
      }
    }`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--allow-read=${new URL("tests/fixtures", root).pathname}`, "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /^jpeg_srgb_icc\.jpg ok 64$/m, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /^\.\.\/orient_1\.jpg ok 64$/m, text);
  assert.match(text, /^jpeg_prophoto\.jpg failed cannot load the colour management/m, text);
});

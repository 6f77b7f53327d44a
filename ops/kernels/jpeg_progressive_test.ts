// Progressive and four-component JPEGs through our own decoder
// (jpeg_progressive.ts, jpeg_decode.ts) against the references: MozJPEG's
// decoder (@jsquash/jpeg, libjpeg-turbo based) pixel for pixel on
// progressive files (cjpeg's, MozJPEG's, with restart markers, gray, odd
// sizes); Pillow's decoding (libjpeg-turbo + its CMYK -> RGB, committed as
// PNGs) on CMYK and YCCK files; and damaged or truncated progressive data
// gives null (no exception, no hang), and a DecodeError or a warning from
// decodeImage, which falls back to MozJPEG.
// Needs --allow-read (@jsquash loads its .wasm files; fixtures).
import decodeMozjpeg from "@jsquash/jpeg/decode.js";
import type { Image } from "../image.ts";
import { DecodeError, decodeImage } from "../codec.ts";
import { decodeJpegFast, decodeJpegFastAt } from "./jpeg_decode.ts";
import { Arena } from "./mod.ts";
import { assert, assertEquals } from "./test_assert.ts";
import { mozjpegProgressive, photoLikeImage, rng } from "./test_util.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../../tests/fixtures/${name}`, import.meta.url));

async function decodeReference(bytes: Uint8Array): Promise<Image> {
  const d = await decodeMozjpeg(bytes.slice().buffer);
  return { width: d.width, height: d.height, data: new Uint8Array(d.data.buffer) };
}

/** The number of differing bytes between two images of the same size. */
function differences(a: Image, b: Image, what: string): number {
  assertEquals([a.width, a.height], [b.width, b.height], what);
  let n = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) n++;
  return n;
}

async function assertExact(bytes: Uint8Array, what: string) {
  const ours = decodeJpegFast(bytes);
  assert(ours !== null, `${what}: unexpectedly unsupported`);
  const n = differences(ours, await decodeReference(bytes), what);
  assertEquals(n, 0, `${what}: ${n} bytes differ from MozJPEG's decoding`);
}

/** The SOS segments of a JPEG: [offset of the marker, Ss, Se, Ah/Al byte offset]. */
function scans(b: Uint8Array): { at: number; ahAl: number }[] {
  const out: { at: number; ahAl: number }[] = [];
  for (let i = 2; i + 4 < b.length; i++) {
    if (b[i] === 0xff && b[i + 1] === 0xda) {
      const ns = b[i + 4];
      out.push({ at: i, ahAl: i + 4 + 3 + 2 * ns });
    }
  }
  return out;
}

Deno.test("progressive: cjpeg fixtures are bit-exact with MozJPEG", async () => {
  for (
    const name of [
      "quad_progressive.jpg",
      "texture_420_prog.jpg",
      "texture_444_prog_rst2.jpg",
      "texture_gray_prog.jpg",
    ]
  ) {
    const bytes = fixture(name);
    assert(bytes.includes(0xc2) && scans(bytes).length > 1, `${name} is progressive`);
    await assertExact(bytes, name);
  }
  // and the restart markers are really there
  assert(fixture("texture_444_prog_rst2.jpg").some((v, i, b) => v === 0xff && b[i + 1] === 0xd1));
});

Deno.test("progressive: MozJPEG's own progressive files (successive approximation), odd sizes", async () => {
  for (const [w, h] of [[1, 1], [5, 3], [17, 15], [61, 45], [203, 151]]) {
    const img = photoLikeImage(w, h, 5 * w + h);
    for (
      const opts of [
        { quality: 75 },
        { quality: 100, auto_subsample: false, chroma_subsample: 1 },
        { quality: 20, color_space: 1 },
      ]
    ) {
      const bytes = await mozjpegProgressive(img, opts);
      const what = `mozjpeg ${w}x${h} ${JSON.stringify(opts)}`;
      assert(scans(bytes).length > 1, `${what} is progressive`);
      if (w <= 4 && opts.chroma_subsample !== 1 && opts.color_space !== 1) {
        // 4:2:0 this narrow: libjpeg upsamples plainly; ours declines
        assertEquals(decodeJpegFast(bytes), null, what);
        continue;
      }
      await assertExact(bytes, what);
    }
  }
});

Deno.test("progressive: the same coefficients as a baseline file give the same pixels, at every scale", () => {
  // cjpeg with the same picture and quality: same coefficients, other scans
  const progressive = fixture("texture_420_prog.jpg"), baseline = fixture("texture_420_rst1.jpg");
  for (const scale of [1, 2, 4, 8] as const) {
    const decode = (b: Uint8Array) => {
      const a = new Arena();
      const r = decodeJpegFastAt(a, b, scale);
      assert(r !== null, `1/${scale}`);
      return a.take(r!);
    };
    const n = differences(decode(progressive), decode(baseline), `1/${scale}`);
    assertEquals(n, 0, `1/${scale}: ${n} bytes differ`);
  }
});

Deno.test("CMYK and YCCK (Adobe, inverted), baseline and progressive: Pillow's pixels exactly", async () => {
  for (
    const [name, ref] of [
      ["texture_ycck_prog.jpg", "texture_ycck_prog_pil.png"],
      ["texture_cmyk_prog.jpg", "texture_cmyk_prog_pil.png"],
    ]
  ) {
    const ours = decodeJpegFast(fixture(name));
    assert(ours !== null, name);
    const want = (await decodeImage(fixture(ref))).image;
    const n = differences(ours, want, name);
    assertEquals(n, 0, `${name}: ${n} bytes differ from Pillow's`);
  }
  // the baseline 4-component fixtures, against ImageMagick's reading (its own rounding)
  for (const name of ["ramp_cmyk.jpg", "ramp_ycck.jpg"]) {
    const ours = decodeJpegFast(fixture(name));
    assert(ours !== null, name);
    const magick = (await decodeImage(fixture(name.replace(".jpg", "_magick.png")))).image;
    let max = 0;
    for (let i = 0; i < ours.data.length; i++) {
      max = Math.max(max, Math.abs(ours.data[i] - magick.data[i]));
    }
    assert(max <= 2, `${name}: max difference ${max} from ImageMagick`);
  }
  // decodeImage uses it, and says what it did
  const d = await decodeImage(fixture("texture_ycck_prog.jpg"));
  assertEquals(d.notes, ["YCCK JPEG converted to RGB"]);
  assertEquals((await decodeImage(fixture("texture_cmyk_prog.jpg"))).notes, [
    "CMYK JPEG converted to RGB",
  ]);
});

Deno.test("CMYK and YCCK with inks asked for: the inks whose Pillow conversion is the RGB output", () => {
  // Pillow's cmyk2rgb: R = (255 - K) - muldiv255(C, 255 - K), C and K the inks (0 = none)
  const muldiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (const name of ["texture_ycck_prog.jpg", "texture_cmyk_prog.jpg", "ramp_ycck.jpg"]) {
    const rgb = decodeJpegFast(fixture(name))!;
    const inks = decodeJpegFast(fixture(name), true)!;
    assertEquals([inks.width, inks.height], [rgb.width, rgb.height], name);
    let bad = 0;
    for (let i = 0; i < rgb.data.length; i += 4) {
      const nk = 255 - inks.data[i + 3];
      for (let c = 0; c < 3; c++) {
        if (nk - muldiv255(inks.data[i + c], nk) !== rgb.data[i + c]) bad++;
      }
    }
    assertEquals(bad, 0, `${name}: ${bad} samples`);
  }
  // an RGB file ignores the request
  const plain = fixture("texture_420_prog.jpg");
  assertEquals(decodeJpegFast(plain, true), decodeJpegFast(plain));
});

Deno.test("4 components without an Adobe marker: null (no known convention)", () => {
  const b = fixture("texture_cmyk_prog.jpg");
  const at = b.findIndex((v, i) => v === 0xff && b[i + 1] === 0xee);
  assert(at > 0, "fixture has APP14");
  const c = b.slice();
  c[at + 4] = 0x58; // "Adobe" -> "Xdobe": just another APP14
  assertEquals(decodeJpegFast(c), null);
});

Deno.test("progressive: files libjpeg would smooth or warn about give null", () => {
  const good = fixture("texture_420_prog.jpg");
  const s = scans(good);
  // only the first scans (DC and the first AC bands), then EOI: libjpeg
  // smooths the blocks of such an incomplete image; we decline it
  for (const n of [1, 2, s.length - 1]) {
    const cut = new Uint8Array(s[n].at + 2);
    cut.set(good.subarray(0, s[n].at));
    cut.set([0xff, 0xd9], s[n].at);
    assertEquals(decodeJpegFast(cut), null, `${n} scans`);
  }
  // a refinement scan whose Ah does not follow the previous Al
  const last = s.at(-1)!;
  const bad = good.slice();
  bad[last.ahAl] = (bad[last.ahAl] & 0x0f) | 0x30;
  assertEquals(decodeJpegFast(bad), null, "Ah out of sequence");
});

Deno.test("progressive: truncated or damaged data gives null, never throws or hangs", async () => {
  for (
    const name of ["texture_420_prog.jpg", "texture_444_prog_rst2.jpg", "texture_ycck_prog.jpg"]
  ) {
    const good = fixture(name);
    const started = performance.now();
    // cut anywhere: null (there is no EOI)
    for (let cut = 0; cut < good.length; cut++) {
      assertEquals(decodeJpegFast(good.subarray(0, cut)), null, `${name} cut at ${cut}`);
    }
    // flipped bits and random bytes anywhere after the header: null or a full image
    const r = rng(7);
    const first = scans(good)[0].at;
    for (let n = 0; n < 300; n++) {
      const bad = good.slice();
      const at = first + Math.floor(r() * (good.length - first));
      if (n % 2) bad[at] ^= 1 << Math.floor(r() * 8);
      else bad[at] = Math.floor(r() * 256);
      const img = decodeJpegFast(bad);
      if (img) assertEquals(img.data.length, img.width * img.height * 4);
    }
    const ms = performance.now() - started;
    assert(ms < 20000, `${name}: ${ms.toFixed(0)} ms for the damaged copies`);
  }
  // decodeImage falls back (MozJPEG, or jpeg-js for CMYK) and reports what is wrong
  const good = fixture("texture_420_prog.jpg");
  for (const cut of [good.length - 2, good.length >> 1, 700]) {
    try {
      const d = await decodeImage(good.slice(0, cut));
      assertEquals(d.warnings, ["JPEG data ends early (truncated?)"], `cut at ${cut}`);
    } catch (e) {
      assert(e instanceof DecodeError, `cut at ${cut}: ${e}`);
    }
  }
});

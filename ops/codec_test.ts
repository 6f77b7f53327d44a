/**
 * Tests for ops/codec.ts against fixtures whose expected pixels were
 * computed by Pillow, OpenCV and ImageMagick (tests/fixtures/README.md).
 * Needs only `--allow-read` (fixtures and the jsquash .wasm files).
 */

import nodeAssert from "node:assert/strict";
import {
  DecodeError,
  decodeImage,
  DEFAULT_JPEG_QUALITY,
  DEFAULT_MAX_PIXELS,
  encodeImage,
  flattenOnWhite,
  initCodecs,
} from "./codec.ts";
import type { Image } from "./image.ts";
import { readDimensions, sniffFormat } from "./formats.ts";

// Small assertion helpers (JSR's @std/assert is not reachable here).
function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}
function assertEquals(actual: unknown, expected: unknown, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}
function assertMatch(actual: string, re: RegExp, msg?: string): void {
  nodeAssert.match(actual, re, msg);
}
function assertInstanceOf<T>(
  value: unknown,
  type: abstract new (...args: never[]) => T,
  msg?: string,
): asserts value is T {
  nodeAssert.ok(
    value instanceof type,
    `${msg ?? ""} expected ${type.name}, got ${String(value)}`,
  );
}
/** Awaits `fn()`, asserts it rejects with `type` (and `includes` in the message); returns the error. */
async function assertRejects<T = Error>(
  fn: () => Promise<unknown>,
  type?: abstract new (...args: never[]) => T,
  includes?: string,
): Promise<T> {
  try {
    await fn();
  } catch (e) {
    if (type) assertInstanceOf(e, type);
    if (includes) {
      assert(
        (e as Error).message.includes(includes),
        `"${(e as Error).message}" lacks "${includes}"`,
      );
    }
    return e as T;
  }
  throw new nodeAssert.AssertionError({ message: "expected a rejection" });
}

const FIXTURES = new URL("../tests/fixtures/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIXTURES));

interface Expected {
  width: number;
  height: number;
  samples?: Record<string, number[]>;
  samples_pil?: Record<string, number[]>;
  opencv?: { width: number; height: number; samples: Record<string, number[]> };
  reference?: string;
  adobe_transform?: number;
  flattened_on_white?: Record<string, number[]>;
  patch8_pil?: number[];
  patch8_opencv?: number[];
}
const EXPECTED: Record<string, Expected> = JSON.parse(
  new TextDecoder().decode(fixture("expected.json")),
);

function pixel(img: Image, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(i, i + 4));
}

/** Quadrant-centre samples, the same points make_fixtures.py uses. */
function samples(img: Image): Record<string, number[]> {
  const { width: w, height: h } = img;
  return {
    tl: pixel(img, Math.floor(w / 4), Math.floor(h / 4)),
    tr: pixel(img, Math.floor((3 * w) / 4), Math.floor(h / 4)),
    bl: pixel(img, Math.floor(w / 4), Math.floor((3 * h) / 4)),
    br: pixel(img, Math.floor((3 * w) / 4), Math.floor((3 * h) / 4)),
  };
}

function assertClose(
  actual: Record<string, number[]>,
  expected: Record<string, number[]>,
  tolerance: number,
  what: string,
) {
  for (const k of Object.keys(expected)) {
    const a = actual[k], e = expected[k];
    const ok = a.length === e.length &&
      a.every((v, i) => Math.abs(v - e[i]) <= tolerance);
    assert(ok, `${what} ${k}: got [${a}], expected [${e}] ±${tolerance}`);
  }
}

async function assertDecodeError(
  bytes: Uint8Array,
  pattern: RegExp,
): Promise<DecodeError> {
  const e = await assertRejects(() => decodeImage(bytes), DecodeError);
  assertInstanceOf(e, DecodeError);
  assertEquals(e.name, "DecodeError");
  assertMatch(e.message, pattern);
  assert(
    !e.message.includes("\n") && !e.message.includes("[object"),
    `not one sentence: ${e.message}`,
  );
  return e;
}

/** Runs `fn` with console.error/warn/log replaced, returning what they got. */
async function captureConsole(fn: () => Promise<void>): Promise<unknown[][]> {
  const got: unknown[][] = [];
  const saved = { error: console.error, warn: console.warn, log: console.log };
  console.error = console.warn = console.log = (...args: unknown[]) => void got.push(args);
  try {
    await fn();
  } finally {
    Object.assign(console, saved);
  }
  return got;
}

// --- sniffing and headers ---------------------------------------------------

Deno.test("sniffFormat uses magic bytes, not names", () => {
  assertEquals(sniffFormat(fixture("quad_baseline.jpg")), "jpeg");
  assertEquals(sniffFormat(fixture("quad_cmyk.jpg")), "jpeg");
  assertEquals(sniffFormat(fixture("quad.png")), "png");
  assertEquals(sniffFormat(fixture("not_an_image.jpg")), null);
  assertEquals(sniffFormat(new Uint8Array(0)), null);
  assertEquals(sniffFormat(new Uint8Array([0xff, 0xd8])), null);
  assertEquals(sniffFormat(fixture("quad.png").subarray(0, 7)), null);
});

Deno.test("readDimensions reads SOFn / IHDR without decoding", () => {
  for (const [name, e] of Object.entries(EXPECTED)) {
    const fmt = name.endsWith(".png") ? "png" : "jpeg";
    // Stored dimensions: orientation is not applied by readDimensions.
    const stored = name.startsWith("orient_") ? { width: 64, height: 48 } : e;
    assertEquals(readDimensions(fixture(name)), {
      width: stored.width,
      height: stored.height,
      format: fmt,
    }, name);
  }
  assertEquals(readDimensions(fixture("not_an_image.jpg")), null);
  assertEquals(
    readDimensions(fixture("quad_baseline.jpg").subarray(0, 20)),
    null,
  );
  assertEquals(readDimensions(fixture("quad.png").subarray(0, 20)), null);
});

// --- JPEG -----------------------------------------------------------------------

for (
  const name of ["quad_baseline.jpg", "quad_progressive.jpg", "quad_gray.jpg"]
) {
  Deno.test(`decodes ${name} like Pillow`, async () => {
    const d = await decodeImage(fixture(name));
    const e = EXPECTED[name];
    assertEquals(d.format, "jpeg");
    assertEquals([d.image.width, d.image.height], [e.width, e.height]);
    assertEquals(d.image.data.length, e.width * e.height * 4);
    assertClose(samples(d.image), e.samples!, 2, name);
    assertEquals(d.warnings, []);
  });
}

Deno.test("grayscale JPEG comes out as R=G=B with a note", async () => {
  const d = await decodeImage(fixture("quad_gray.jpg"));
  for (let i = 0; i < d.image.data.length; i += 4) {
    const [r, g, b, a] = d.image.data.subarray(i, i + 4);
    assert(r === g && g === b && a === 255);
  }
  assertEquals(d.notes, ["grayscale JPEG expanded to RGB"]);
});

Deno.test("CMYK (YCCK) quad JPEG matches ImageMagick's and Pillow's colours", async () => {
  const d = await decodeImage(fixture("quad_cmyk.jpg"));
  assertClose(
    samples(d.image),
    EXPECTED["quad_cmyk.jpg"].samples!,
    3,
    "vs ImageMagick",
  );
  assertClose(
    samples(d.image),
    EXPECTED["quad_cmyk.jpg"].samples_pil!,
    3,
    "vs Pillow",
  );
  assertEquals(d.notes, ["YCCK JPEG converted to RGB"]);
  assertEquals(d.warnings, []);
});

for (
  const [name, kind, transform] of [["ramp_cmyk.jpg", "CMYK", 0], [
    "ramp_ycck.jpg",
    "YCCK",
    2,
  ]] as const
) {
  Deno.test(`${kind} JPEG (Adobe transform ${transform}) matches ImageMagick over every pixel`, async () => {
    const e = EXPECTED[name];
    assertEquals(e.adobe_transform, transform);
    const d = await decodeImage(fixture(name));
    const ref = await decodeImage(fixture(e.reference!)); // an RGB PNG written by ImageMagick
    assertEquals([d.image.width, d.image.height], [
      ref.image.width,
      ref.image.height,
    ]);
    let maxDiff = 0, sum = 0;
    for (let i = 0; i < d.image.data.length; i++) {
      const diff = Math.abs(d.image.data[i] - ref.image.data[i]);
      maxDiff = Math.max(maxDiff, diff);
      sum += diff;
    }
    const mean = sum / d.image.data.length;
    // Different IDCT / upsampling than libjpeg: small differences only. Not
    // inverting the inks, or ignoring YCCK, gives differences of ~100+.
    assert(
      maxDiff <= 8 && mean <= 1,
      `max ${maxDiff}, mean ${mean.toFixed(2)}`,
    );
    assertEquals(d.notes, [`${kind} JPEG converted to RGB`]);
  });
}

for (
  const name of [
    ...Array.from({ length: 8 }, (_, i) => `orient_${i + 1}.jpg`),
    "orient_6_le.jpg",
  ]
) {
  Deno.test(`EXIF orientation: ${name} like Pillow exif_transpose and OpenCV imread`, async () => {
    const d = await decodeImage(fixture(name));
    const e = EXPECTED[name];
    assertEquals(
      [d.image.width, d.image.height],
      [e.width, e.height],
      "Pillow size",
    );
    assertEquals([d.image.width, d.image.height], [
      e.opencv!.width,
      e.opencv!.height,
    ], "OpenCV size");
    assertClose(samples(d.image), e.samples!, 2, "Pillow");
    assertClose(samples(d.image), e.opencv!.samples, 2, "OpenCV");
    const o = Number(name.match(/orient_(\d)/)![1]);
    if (o === 1) assertEquals(d.notes, []);
    else {assertMatch(
        d.notes.join("|"),
        new RegExp(`EXIF orientation ${o} applied`),
      );}
  });
}

// --- PNG ------------------------------------------------------------------------

for (
  const name of ["quad.png", "rgba.png", "palette_trns.png", "gray_alpha.png"]
) {
  Deno.test(`decodes ${name} exactly like Pillow (alpha kept)`, async () => {
    const d = await decodeImage(fixture(name));
    const e = EXPECTED[name];
    assertEquals(d.format, "png");
    assertEquals([d.image.width, d.image.height], [e.width, e.height]);
    assertEquals(samples(d.image), e.samples);
    assertEquals(d.warnings, []);
  });
}

Deno.test("16-bit PNG is reduced by taking the high byte, like Pillow and OpenCV", async () => {
  const d = await decodeImage(fixture("rgb16.png"));
  const e = EXPECTED["rgb16.png"];
  assertEquals(pixel(d.image, 3, 3), e.patch8_pil);
  assertEquals(pixel(d.image, 3, 3), e.patch8_opencv);
  assertEquals(samples(d.image), EXPECTED["quad.png"].samples);
  assertEquals(d.notes, ["16-bit PNG reduced to 8 bits per channel"]);
});

// --- bad input ------------------------------------------------------------------

Deno.test("empty file", async () => {
  const e = await assertDecodeError(new Uint8Array(0), /^empty file$/);
  assertEquals(e.message, "empty file");
});

Deno.test("random bytes and a text file named .jpg", async () => {
  // Deterministic "random" bytes (xorshift), not starting with a signature.
  const rnd = new Uint8Array(4096);
  let s = 0x9e3779b9;
  for (let i = 0; i < rnd.length; i++) {
    s ^= s << 13, s ^= s >>> 17, s ^= s << 5;
    rnd[i] = s & 0xff;
  }
  rnd[0] = 0x42;
  await assertDecodeError(rnd, /^not a JPEG, PNG, WebP, AVIF, HEIC or GIF file$/);
  await assertDecodeError(
    fixture("not_an_image.jpg"),
    /^not a JPEG, PNG, WebP, AVIF, HEIC or GIF file \(looks like text\)$/,
  );
  await assertDecodeError(
    new TextEncoder().encode("GIF89a...."),
    /^a GIF file, not JPEG or PNG/,
  );
  await assertDecodeError(
    new TextEncoder().encode("GIF8"),
    /looks like a GIF cut short/,
  );
});

Deno.test("a JPEG cut anywhere never decodes silently", async () => {
  for (
    const name of ["quad_baseline.jpg", "quad_progressive.jpg", "quad_cmyk.jpg"]
  ) {
    const full = fixture(name);
    for (let cut = 3; cut < full.length; cut++) {
      const bytes = full.slice(0, cut);
      try {
        const d = await decodeImage(bytes);
        assert(
          d.warnings.includes("JPEG data ends early (truncated?)"),
          `${name} cut at ${cut}: decoded without a truncation warning`,
        );
      } catch (e) {
        assertInstanceOf(e, DecodeError, `${name} cut at ${cut}`);
        assertMatch(e.message, /JPEG data/);
      }
    }
  }
});

Deno.test("a progressive JPEG cut in half decodes partially with a warning", async () => {
  const full = fixture("quad_progressive.jpg");
  const d = await decodeImage(full.slice(0, full.length >> 1));
  assertEquals([d.image.width, d.image.height], [64, 48]);
  assertEquals(d.warnings, ["JPEG data ends early (truncated?)"]);
});

Deno.test("a JPEG with the header cut short is a DecodeError", async () => {
  await assertDecodeError(
    fixture("quad_baseline.jpg").slice(0, 200),
    /^truncated or corrupt JPEG data/,
  );
});

Deno.test("trailing bytes after EOI are fine", async () => {
  const full = fixture("quad_baseline.jpg");
  const padded = new Uint8Array(full.length + 100);
  padded.set(full);
  const d = await decodeImage(padded);
  assertEquals(d.warnings, []);
});

Deno.test("corrupted JPEG entropy data: DecodeError or a result, never a crash; decoder recovers", async () => {
  const full = fixture("quad_baseline.jpg");
  for (let k = 0; k < 60; k++) {
    const bytes = full.slice();
    for (let j = 0; j < 8; j++) {
      bytes[full.length - 300 + ((k * 37 + j * 11) % 280)] = (k * 31 + j) &
        0xff;
    }
    try {
      await decodeImage(bytes);
    } catch (e) {
      assertInstanceOf(e, DecodeError);
    }
  }
  const d = await decodeImage(full);
  assertClose(
    samples(d.image),
    EXPECTED["quad_baseline.jpg"].samples!,
    2,
    "after errors",
  );
});

Deno.test("decoder stderr noise is suppressed (libjpeg messages become warnings)", async () => {
  const full = fixture("quad_baseline.jpg");
  const printed = await captureConsole(async () => {
    await assertRejects(() => decodeImage(full.slice(0, 200)), DecodeError);
    await assertRejects(
      () => decodeImage(fixture("quad.png").slice(0, 60)),
      DecodeError,
    );
    const d = await decodeImage(full.slice(0, full.length - 2)); // everything but EOI
    assertEquals(d.warnings, ["JPEG data ends early (truncated?)"]);
  });
  assertEquals(printed, []);
});

Deno.test("a PNG cut anywhere never decodes silently", async () => {
  for (const name of ["quad.png", "rgba.png", "palette_trns.png"]) {
    const full = fixture(name);
    for (let cut = 8; cut < full.length; cut++) {
      try {
        const d = await decodeImage(full.slice(0, cut));
        assert(
          d.warnings.some((w) => /ends early/.test(w)),
          `${name} cut at ${cut}: no warning`,
        );
      } catch (e) {
        assertInstanceOf(e, DecodeError, `${name} cut at ${cut}`);
        assertMatch(e.message, /PNG data/);
      }
    }
  }
  await assertDecodeError(
    fixture("quad.png").slice(0, 60),
    /^truncated PNG data$/,
  );
});

/** Offset of the first chunk of `type` (its length field) in a PNG. */
function chunkOffset(png: Uint8Array, type: string): number {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let i = 8; i + 8 <= png.length; i += 12 + v.getUint32(i)) {
    if (String.fromCharCode(...png.subarray(i + 4, i + 8)) === type) return i;
  }
  throw new Error(`no ${type} chunk`);
}

Deno.test("a PNG with a bad CRC in a critical chunk is a DecodeError", async () => {
  const png = fixture("quad.png");
  const idat = chunkOffset(png, "IDAT");
  const len = new DataView(png.buffer, png.byteOffset).getUint32(idat);
  const badData = png.slice();
  badData[idat + 8 + (len >> 1)] ^= 0x10; // one bit in the compressed data
  await assertDecodeError(
    badData,
    /^corrupt PNG data \(CRC mismatch in IDAT chunk\)$/,
  );
  const badCrc = png.slice();
  badCrc[idat + 8 + len] ^= 0x01; // the stored CRC itself
  await assertDecodeError(badCrc, /CRC mismatch in IDAT/);
  const badIhdr = png.slice();
  badIhdr[29] ^= 0x01; // IHDR CRC
  await assertDecodeError(badIhdr, /CRC mismatch in IHDR/);
});

Deno.test("a PNG with a bad CRC in an ancillary chunk decodes with a warning", async () => {
  const png = fixture("palette_trns.png").slice();
  const trns = chunkOffset(png, "tRNS");
  const len = new DataView(png.buffer).getUint32(trns);
  png[trns + 8 + len] ^= 0x01;
  const d = await decodeImage(png);
  assertEquals(d.warnings, ["PNG tRNS chunk has a bad CRC (used anyway)"]);
  assertEquals(samples(d.image), EXPECTED["palette_trns.png"].samples);
});

// --- pixel limit ------------------------------------------------------------------

/** quad_baseline.jpg with its SOF0 size patched (no pixels to match). */
function jpegClaiming(width: number, height: number): Uint8Array {
  const b = fixture("quad_baseline.jpg").slice();
  for (let i = 2; i < b.length;) {
    const m = b[i + 1], len = (b[i + 2] << 8) | b[i + 3];
    if (m === 0xc0) {
      b[i + 5] = height >> 8,
        b[i + 6] = height & 0xff,
        b[i + 7] = width >> 8,
        b[i + 8] = width & 0xff;
      return b;
    }
    i += 2 + len;
  }
  throw new Error("no SOF0");
}

Deno.test("pixel limit is checked from the header before decoding", async () => {
  assertEquals(DEFAULT_MAX_PIXELS, 100_000_000);
  const big = jpegClaiming(20000, 10000);
  assertEquals(readDimensions(big), {
    width: 20000,
    height: 10000,
    format: "jpeg",
  });
  const e = await assertDecodeError(big, /over the limit/);
  assertEquals(
    e.message,
    "image is 20000x10000 = 200 megapixels, over the limit of 100 megapixels (--max-pixels)",
  );

  const png = fixture("quad.png").slice();
  new DataView(png.buffer).setUint32(16, 30000); // IHDR width (CRC now wrong: guard comes first)
  new DataView(png.buffer).setUint32(20, 5000);
  const e2 = await assertDecodeError(png, /over the limit/);
  assertEquals(
    e2.message,
    "image is 30000x5000 = 150 megapixels, over the limit of 100 megapixels (--max-pixels)",
  );

  const quad = fixture("quad.png"); // 64x48 = 3072 pixels
  await assertRejects(
    () => decodeImage(quad, { maxPixels: 3071 }),
    DecodeError,
    "image is 64x48 = 3,072 pixels, over the limit of 3,071 pixels (--max-pixels)",
  );
  assertEquals((await decodeImage(quad, { maxPixels: 3072 })).image.width, 64);
  await assertRejects(() => decodeImage(quad, { maxPixels: 0 }), RangeError);
});

// --- encoding ---------------------------------------------------------------------

Deno.test("DEFAULT_JPEG_QUALITY is 75 (Pillow's and MozJPEG's default)", () => {
  assertEquals(DEFAULT_JPEG_QUALITY, 75);
});

Deno.test("JPEG encode round trip keeps the colours", async () => {
  const src = (await decodeImage(fixture("quad.png"))).image;
  const jpg = await encodeImage(src, "jpeg", { quality: 95 });
  assertEquals(Array.from(jpg.subarray(0, 3)), [0xff, 0xd8, 0xff]);
  assertEquals(Array.from(jpg.subarray(-2)), [0xff, 0xd9]);
  assertEquals(
    jpg.byteLength,
    jpg.buffer.byteLength,
    "a standalone buffer, not a view of WASM memory",
  );
  const back = await decodeImage(jpg);
  assertEquals(back.warnings, []);
  assertClose(
    samples(back.image),
    EXPECTED["quad.png"].samples!,
    4,
    "q95 round trip",
  );
});

Deno.test("JPEG quality changes the size of a textured image", async () => {
  const ramp = (await decodeImage(fixture("ramp_cmyk_magick.png"))).image;
  const sizes: number[] = [];
  for (const quality of [10, 50, DEFAULT_JPEG_QUALITY, 95]) {
    sizes.push((await encodeImage(ramp, "jpeg", { quality })).length);
  }
  // Not strictly monotonic on a 64x48 image (q50 can beat q75 by a few
  // bytes with trellis quantisation), but clearly smaller than q95.
  assert(sizes.slice(0, 3).every((n) => n < sizes[3]), `sizes ${sizes}`);
});

Deno.test("JPEG encode flattens alpha onto white (like Pillow alpha_composite over white)", async () => {
  const rgba = (await decodeImage(fixture("rgba.png"))).image;
  const want = EXPECTED["rgba.png"].flattened_on_white!;
  const flat = { ...rgba, data: flattenOnWhite(rgba.data) };
  assertClose(samples(flat), want, 1, "flattenOnWhite");
  const back = await decodeImage(
    await encodeImage(rgba, "jpeg", { quality: 95 }),
  );
  assertClose(samples(back.image), want, 4, "JPEG of RGBA");
  assertEquals(rgba.data[4 * 63 + 3], 128, "input not modified");
});

Deno.test("flattenOnWhite returns opaque data unchanged (same buffer)", async () => {
  const opaque = (await decodeImage(fixture("quad.png"))).image.data;
  assertEquals(flattenOnWhite(opaque) === opaque, true);
});

Deno.test("PNG encode round trip is lossless and keeps alpha", async () => {
  for (const name of ["rgba.png", "palette_trns.png", "quad_baseline.jpg"]) {
    const src = (await decodeImage(fixture(name))).image;
    const png = await encodeImage(src, "png", {
      quality: DEFAULT_JPEG_QUALITY,
    });
    assertEquals(sniffFormat(png), "png");
    const back = await decodeImage(png);
    assertEquals(back.warnings, []);
    assertEquals([back.image.width, back.image.height], [
      src.width,
      src.height,
    ]);
    assertEquals(back.image.data, src.data, name);
  }
});

Deno.test("encodeImage rejects bad images and qualities", async () => {
  const img = { width: 2, height: 2, data: new Uint8Array(16) };
  await assertRejects(
    () => encodeImage(img, "jpeg", { quality: 0 }),
    RangeError,
  );
  await assertRejects(
    () => encodeImage(img, "jpeg", { quality: 101 }),
    RangeError,
  );
  await assertRejects(
    () => encodeImage(img, "jpeg", { quality: 50.5 }),
    RangeError,
  );
  await assertRejects(
    () => encodeImage({ ...img, data: new Uint8Array(15) }, "png", { quality: 75 }),
    RangeError,
  );
  await assertRejects(
    () => encodeImage({ ...img, width: 0 }, "png", { quality: 75 }),
    RangeError,
  );
});

Deno.test("odd-sized images encode and decode (1x1, 3x5)", async () => {
  for (const [w, h] of [[1, 1], [3, 5]]) {
    const data = new Uint8Array(w * h * 4).map((
      _,
      i,
    ) => (i % 4 === 3 ? 255 : (i * 53) & 0xff));
    const img = { width: w, height: h, data };
    const png = await decodeImage(
      await encodeImage(img, "png", { quality: 75 }),
    );
    assertEquals(png.image.data, data);
    const jpg = await decodeImage(
      await encodeImage(img, "jpeg", { quality: 90 }),
    );
    assertEquals([jpg.image.width, jpg.image.height], [w, h]);
  }
});

// --- WASM initialisation ----------------------------------------------------------

Deno.test("initCodecs accepts WASM bytes we load ourselves (as deno compile would)", async () => {
  // A fresh copy of the module graph root so its one-time init runs again.
  const fresh: typeof import("./codec.ts") = await import(
    new URL("./codec.ts?fresh", import.meta.url).href
  );
  const read = (spec: string) => Deno.readFileSync(new URL(import.meta.resolve(spec)));
  // Bad bytes reject, and a later call can still succeed.
  await assertRejects(() => fresh.initCodecs({ jpegDecoder: new Uint8Array([0, 97, 115, 109]) }));
  await fresh.initCodecs({
    jpegDecoder: await WebAssembly.compile(
      read(fresh.CODEC_WASM_SPECIFIERS.jpegDecoder),
    ),
    jpegEncoder: read(fresh.CODEC_WASM_SPECIFIERS.jpegEncoder),
    png: read(fresh.CODEC_WASM_SPECIFIERS.png),
  });
  const d = await fresh.decodeImage(fixture("quad_baseline.jpg"));
  assertClose(
    samples(d.image),
    EXPECTED["quad_baseline.jpg"].samples!,
    2,
    "fresh instance",
  );
  await initCodecs(); // the normal instance is unaffected
});

/** Recomputes a PNG chunk's CRC-32 (reference bitwise algorithm, not ours). */
function fixCrc(png: Uint8Array, at: number): void {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const len = v.getUint32(at);
  let c = 0xffffffff;
  for (const b of png.subarray(at + 4, at + 8 + len)) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  v.setUint32(at + 8 + len, (c ^ 0xffffffff) >>> 0);
}

Deno.test("corrupt PNG data with valid CRCs: DecodeError, and the decoder keeps working", async () => {
  const png = fixture("quad.png").slice();
  const idat = chunkOffset(png, "IDAT");
  png[idat + 8] = 0xff; // zlib header byte: invalid compression method
  fixCrc(png, idat);
  // More failures than the ~700 that used to exhaust the shadow stack.
  for (let i = 0; i < 800; i++) {
    await assertDecodeError(png, /^corrupt PNG data/);
  }
  const d = await decodeImage(fixture("quad.png"));
  assertEquals(samples(d.image), EXPECTED["quad.png"].samples);
});

Deno.test("random byte mutations of every fixture: only results or DecodeErrors", async () => {
  const names = Object.keys(EXPECTED);
  let seed = 12345; // deterministic LCG
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 1500; i++) {
    const b = fixture(names[i % names.length]);
    const k = 1 + Math.floor(rnd() * 6);
    for (let j = 0; j < k; j++) {
      b[2 + Math.floor(rnd() * (b.length - 2))] = Math.floor(rnd() * 256);
    }
    try {
      const d = await decodeImage(b);
      assertEquals(d.image.data.length, d.image.width * d.image.height * 4);
    } catch (e) {
      assertInstanceOf(
        e,
        DecodeError,
        `mutation ${i} of ${names[i % names.length]}`,
      );
    }
  }
});

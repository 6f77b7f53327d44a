// Large PNGs resized as their rows arrive give the bytes of decoding the whole image and resizing
// it (both pass orders, strips of many rows, contain's bars, cover's crop, every --kernel), what
// libpng forgives streams with decodeImage's warnings, and anything the streaming path does not
// take returns null for the general path.
import nodeAssert from "node:assert/strict";
import { decodeImage } from "./codec.ts";
import { applyStep, type Step } from "./pipeline.ts";
import { decodePngResized } from "./png_stream.ts";
import { crc32, pngChunk as chunk } from "./png_chunks.ts";
import { KERNELS } from "./kernels/mod.ts";
import { makePng } from "./png_test_util.ts";
import { deflateSync } from "node:zlib";
import { readJpegIcc } from "./icc.ts";
import { decodeAny } from "./format_io.ts";

const assertEquals = (a: unknown, b: unknown, msg?: string) =>
  nodeAssert.deepStrictEqual(a, b, msg);

const assertNull = (a: unknown) => nodeAssert.ok(a === null, "expected null");

const STEPS: Step[] = [
  { op: "resize", width: 64, height: 64, fit: "fill" }, // both ways: vertical pass first
  { op: "resize", width: 900, height: 20, fit: "fill" }, // horizontal pass first
  { op: "resize", width: 100, height: 100, fit: "contain", background: [10, 20, 30, 255] },
  { op: "resize", width: 300, height: 30, fit: "cover" },
  { op: "resize", width: 37, height: 201, fit: "fill" },
  { op: "resize", width: 1800, height: 40, fit: "fill" }, // enlarges across
];

Deno.test("png stream: resizing rows as they arrive gives the whole-image resize's bytes, every kernel", async () => {
  // 4000 RGBA pixels a row: ~65 rows a strip, so the window slides over several strips
  const cases = [
    makePng(4000, 230, 6, 8, 3),
    makePng(1501, 333, 2, 8, 4),
    makePng(999, 401, 0, 16, 5),
  ];
  await assertStreamsAsWhole(cases.map((c) => c.png), STEPS);
});

Deno.test("png stream: strips shorter than the transposed pass's 32 rows, the same bytes", async () => {
  // 36,000 bytes a row: strips of 29 rows; 900x20 is resized across first (gathered, not transposed)
  await assertStreamsAsWhole([makePng(9000, 401, 6, 8, 6).png], [STEPS[1], STEPS[3]]);
});

/** Each of `pngs` streamed through each of `steps` with every kernel: the whole-image bytes. */
async function assertStreamsAsWhole(pngs: Uint8Array[], steps: Step[]): Promise<void> {
  for (const png of pngs) {
    const whole = (await decodeImage(png)).image;
    for (const kernel of KERNELS) {
      for (const plain of steps) {
        const step = { ...plain, kernel } as Step;
        const want = applyStep(whole, step);
        const streamed = await decodePngResized(png, [step], 1e9, 0);
        nodeAssert.ok(streamed, `streamed ${JSON.stringify(step)}`);
        const got = streamed.image;
        assertEquals([got.width, got.height], [want.width, want.height]);
        nodeAssert.ok(Buffer.from(got.data).equals(want.data), JSON.stringify(step));
        assertEquals(streamed.warnings, []);
      }
    }
  }
}

Deno.test("png stream: what it does not take goes to the general path", async () => {
  const { png } = makePng(300, 200, 2, 8, 1);
  const step: Step = { op: "resize", width: 30, height: 20, fit: "fill" };
  nodeAssert.ok(await decodePngResized(png, [step], 1e9, 0));
  assertNull(await decodePngResized(png, [step], 1e9)); // under STREAM_MIN_PIXELS
  assertNull(await decodePngResized(png, [{ op: "to_gray" }, step], 1e9, 0));
  assertNull(await decodePngResized(png, [step], 1000, 0)); // over the pixel limit
  const across: Step = { op: "resize", width: 300, height: 20, fit: "fill" };
  assertNull(await decodePngResized(png, [across], 1e9, 0)); // one axis only
  // an ICC profile that cannot be read (the general path says so)
  const iend = png.length - 12;
  const withIcc = new Uint8Array([
    ...png.subarray(0, 33),
    ...chunk("iCCP", new Uint8Array([0x78, 0, 0, 0x78, 0x9c, 3, 0, 0, 0, 0, 1])),
    ...png.subarray(33),
  ]);
  assertNull(await decodePngResized(withIcc, [step], 1e9, 0));
  // a bad critical CRC, a cut inside the image data: the general path's errors
  const badIdat = png.slice();
  badIdat[iend - 1] ^= 1; // the last IDAT's CRC
  assertNull(await decodePngResized(badIdat, [step], 1e9, 0));
  await nodeAssert.rejects(() => decodeImage(badIdat), /CRC mismatch in IDAT chunk/);
  assertNull(await decodePngResized(png.subarray(0, iend - 20), [step], 1e9, 0));
  // damaged zlib data in the largest IDAT, its CRC made right: null, and the general path reports it
  const damaged = png.slice();
  const v = new DataView(damaged.buffer);
  let big = 0;
  for (let i = 8; i < damaged.length; i += 12 + v.getUint32(i)) {
    const isIdat = String.fromCharCode(...damaged.subarray(i + 4, i + 8)) === "IDAT";
    if (isIdat && v.getUint32(i) > (big ? v.getUint32(big) : 0)) big = i;
  }
  const len = v.getUint32(big);
  for (let i = big + 8; i < big + 8 + len; i += 3) damaged[i] ^= 0x5a;
  v.setUint32(big + 8 + len, crc32(damaged, big + 4, big + 8 + len));
  assertNull(await decodePngResized(damaged, [step], 1e9, 0));
  await nodeAssert.rejects(() => decodeImage(damaged), /corrupt PNG data/);
});

Deno.test("png stream: what libpng forgives streams too, with decodeImage's warnings", async () => {
  const { png } = makePng(300, 200, 2, 8, 1);
  const step: Step = { op: "resize", width: 30, height: 20, fit: "fill" };
  const iend = png.length - 12;
  const text = chunk("tEXt", new TextEncoder().encode("a\0b"));
  text[text.length - 1] ^= 1;
  const forgiven = [
    new Uint8Array([...png.subarray(0, iend), ...text, ...png.subarray(iend)]), // bad ancillary CRC
    new Uint8Array([
      ...png.subarray(0, 33),
      ...chunk("sRGB", new Uint8Array([4])),
      ...png.subarray(33),
    ]),
    png.subarray(0, iend), // no IEND
  ];
  for (const bytes of forgiven) {
    const general = await decodeImage(bytes);
    nodeAssert.equal(general.warnings.length, 1);
    const streamed = await decodePngResized(bytes, [step], 1e9, 0);
    nodeAssert.ok(streamed);
    assertEquals(streamed.warnings, general.warnings);
    nodeAssert.ok(Buffer.from(streamed.image.data).equals(applyStep(general.image, step).data));
  }
});

Deno.test("png stream: an sRGB profile streams; one to convert takes the general path; --keep-icc keeps it", async () => {
  const { png } = makePng(300, 200, 2, 8, 1);
  const step: Step = { op: "resize", width: 30, height: 20, fit: "fill" };
  const fixture = (name: string) =>
    Deno.readFileSync(new URL(`../tests/fixtures/formats/${name}`, import.meta.url));
  const withProfile = (icc: Uint8Array) =>
    new Uint8Array([
      ...png.subarray(0, 33),
      ...chunk(
        "iCCP",
        new Uint8Array([...new TextEncoder().encode("p"), 0, 0, ...deflateSync(icc)]),
      ),
      ...png.subarray(33),
    ]);
  const srgb = withProfile(readJpegIcc(fixture("jpeg_srgb_icc.jpg"))!);
  const wide = withProfile(fixture("prophoto.icc"));
  for (const keepIcc of [false, true]) {
    for (const bytes of [srgb, wide]) {
      const general = await decodeAny(bytes, { keepIcc });
      const streamed = await decodePngResized(bytes, [step], 1e9, 0, keepIcc);
      if (bytes === wide && !keepIcc) {
        assertNull(streamed); // converted at full size by the general path
        continue;
      }
      nodeAssert.ok(streamed, `keepIcc ${keepIcc}`);
      assertEquals(streamed.icc, general.icc);
      assertEquals(streamed.warnings, general.warnings);
      nodeAssert.ok(Buffer.from(streamed.image.data).equals(applyStep(general.image, step).data));
    }
  }
});

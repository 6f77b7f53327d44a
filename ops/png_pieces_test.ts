// A large PNG read from its file in pieces gives what the whole file gives on the streamed path
// (decodePngResized): the same pixels, the same warnings for what libpng forgives, wherever the
// pieces cut the chunks; anything damaged or unusual returns null for the general path.
import nodeAssert from "node:assert/strict";
import { decodePngResized } from "./png_stream.ts";
import { decodePngFileResized } from "./png_pieces.ts";
import { crc32, pngChunk as chunk } from "./png_chunks.ts";
import type { Step } from "./pipeline.ts";
import { makePng } from "./png_test_util.ts";

/** A reader over `bytes` that hands out at most `most` bytes a call. */
function reader(bytes: Uint8Array, most = 1000) {
  let at = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(p.length, most, bytes.length - at);
      p.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

const step: Step = { op: "resize", width: 30, height: 20, fit: "fill" };

async function inPieces(bytes: Uint8Array, pieceBytes: number) {
  return await decodePngFileResized(reader(bytes), [step], 1e9, { minPixels: 0, pieceBytes });
}

Deno.test("png pieces: the same image and warnings as the whole file, pieces of any size", async () => {
  const { png } = makePng(300, 200, 2, 8, 1);
  const iend = png.length - 12;
  const text = chunk("tEXt", new TextEncoder().encode("a\0b"));
  const badText = text.slice();
  badText[badText.length - 1] ^= 1;
  const files = [
    png,
    makePng(301, 120, 6, 8, 2).png,
    makePng(200, 150, 3, 8, 3, { palette: 7, trns: new Uint8Array([0, 128]) }).png,
    new Uint8Array([...png.subarray(0, iend), ...text, ...png.subarray(iend)]),
    new Uint8Array([...png.subarray(0, iend), ...badText, ...png.subarray(iend)]), // bad CRC
    new Uint8Array([
      ...png.subarray(0, 33),
      ...chunk("sRGB", new Uint8Array([4])),
      ...png.subarray(33),
    ]),
    png.subarray(0, iend), // no IEND
    new Uint8Array([...png.subarray(0, iend), ...text.subarray(0, 9)]), // cut inside a chunk after
    png.subarray(0, iend + 5), // cut inside IEND's header
  ];
  for (const [i, bytes] of files.entries()) {
    const whole = await decodePngResized(bytes, [step], 1e9, 0);
    nodeAssert.ok(whole, `file ${i}: streamed whole`);
    for (const pieceBytes of [5, 61, 4096, 1 << 20]) {
      const got = await inPieces(bytes, pieceBytes);
      nodeAssert.ok(got, `file ${i}, pieces of ${pieceBytes}`);
      nodeAssert.deepStrictEqual(
        got.warnings,
        whole.warnings,
        `file ${i}, pieces of ${pieceBytes}`,
      );
      nodeAssert.deepStrictEqual([got.image.width, got.image.height], [30, 20]);
      nodeAssert.ok(Buffer.from(got.image.data).equals(whole.image.data), `file ${i}`);
    }
  }
});

Deno.test("png pieces: damaged or unusual files return null for the general path", async () => {
  const { png } = makePng(300, 200, 2, 8, 1);
  const iend = png.length - 12;
  const v = new DataView(png.buffer);
  const idats: number[] = [];
  for (let i = 8; i < png.length; i += 12 + v.getUint32(i)) {
    if (String.fromCharCode(...png.subarray(i + 4, i + 8)) === "IDAT") idats.push(i);
  }
  const last = idats[idats.length - 1];
  const badCrc = png.slice();
  badCrc[iend - 1] ^= 1; // the last IDAT's CRC
  const badData = png.slice();
  badData[last + 8] ^= 0x5a; // the last IDAT's data, its CRC left: a CRC mismatch
  const damagedZlib = png.slice();
  for (let i = last + 8; i < iend - 4; i += 2) damagedZlib[i] ^= 0x5a;
  new DataView(damagedZlib.buffer).setUint32(iend - 4, crc32(damagedZlib, last + 4, iend - 4));
  const text = chunk("tEXt", new TextEncoder().encode("a\0b"));
  const cases: [string, Uint8Array][] = [
    ["a bad IDAT CRC", badCrc],
    ["IDAT data changed", badData],
    ["damaged zlib data", damagedZlib],
    ["cut inside the image data", png.subarray(0, last + 20)],
    ["cut before the image data", png.subarray(0, idats[0] + 4)],
    [
      "image data after another chunk",
      new Uint8Array([
        ...png.subarray(0, last),
        ...text,
        ...png.subarray(last),
      ]),
    ],
    ["a bad IHDR CRC", png.map((b, i) => i === 32 ? b ^ 1 : b)],
    ["not a PNG", new Uint8Array(1000)],
    ["empty", new Uint8Array(0)],
  ];
  for (const [what, bytes] of cases) {
    for (const pieceBytes of [5, 1 << 20]) {
      nodeAssert.equal(await inPieces(bytes, pieceBytes), null, `${what}, pieces of ${pieceBytes}`);
    }
  }
  // what the streamed path declines, this one declines too
  const pieces = (steps: Step[], max = 1e9, minPixels = 0) =>
    decodePngFileResized(reader(png), steps, max, { minPixels });
  nodeAssert.ok(await pieces([step]));
  nodeAssert.equal(await pieces([step], 1e9, 1e6), null); // under the streaming size
  nodeAssert.equal(await pieces([{ op: "to_gray" }, step]), null);
  nodeAssert.equal(await pieces([step], 1000), null); // over the pixel limit
});

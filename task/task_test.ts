// A PNG file over PIECES_MIN_BYTES is read in pieces (its read time then counts as decode time):
// the same output bytes as processing the whole file in memory, and a damaged one gets the general
// path's message.
import nodeAssert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { processBytes, processFile } from "./task.ts";
import { PNG_SIGNATURE, pngChunk as chunk } from "../ops/png_chunks.ts";
import { PIECES_MIN_BYTES } from "../ops/png_pieces.ts";
import { fitPipeline } from "../tests/helpers.ts";
import { concat } from "../ops/bytes.ts";

/** A noisy RGB PNG of at least `minBytes`, stored (level 0) in IDATs of 64 KB, every filter used. */
function bigPng(minBytes: number): Uint8Array {
  const w = 4000, pitch = w * 3 + 1, h = Math.ceil(minBytes / pitch);
  const raw = new Uint8Array(pitch * h);
  for (let at = 0; at < raw.length; at += 65536) {
    crypto.getRandomValues(raw.subarray(at, at + 65536));
  }
  for (let y = 0; y < h; y++) raw[y * pitch] = y % 5;
  const z = deflateSync(raw, { level: 0 });
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [Uint8Array.from(PNG_SIGNATURE), chunk("IHDR", ihdr)];
  for (let at = 0; at < z.length; at += 65536) {
    parts.push(chunk("IDAT", z.subarray(at, at + 65536)));
  }
  parts.push(chunk("IEND", new Uint8Array(0)));
  return concat(parts);
}

Deno.test("task: a large PNG read in pieces gives the bytes of the whole file's processing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-task-" });
  try {
    const png = bigPng(PIECES_MIN_BYTES);
    nodeAssert.ok(png.length >= PIECES_MIN_BYTES);
    const pipeline = fitPipeline(256);
    await Deno.writeFile(`${dir}/in.png`, png);
    const got = await processFile(`${dir}/in.png`, `${dir}/out.jpg`, pipeline);
    if (!got.ok) throw new Error(got.error);
    nodeAssert.equal(got.timings.read, 0); // read while decoding
    const want = await processBytes(png, pipeline);
    nodeAssert.ok(Buffer.from(await Deno.readFile(`${dir}/out.jpg`)).equals(want.bytes));
    // a damaged IDAT CRC: the general path reads the whole file and says what is wrong
    png[png.length - 13] ^= 1;
    await Deno.writeFile(`${dir}/bad.png`, png);
    const bad = await processFile(`${dir}/bad.png`, `${dir}/bad.jpg`, pipeline);
    nodeAssert.ok(!bad.ok && /CRC mismatch in IDAT chunk/.test(bad.error), JSON.stringify(bad));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { crc32, hasPngSignature, readPngHeader, readPngInfo } from "./png_chunks.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../tests/fixtures/${name}`, import.meta.url));

Deno.test("crc32 matches the standard CRC-32 check value", () => {
  // CRC-32/ISO-HDLC check value for "123456789" (as in the PNG spec's CRC).
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("readPngInfo: IHDR fields, clean CRCs, IEND reached", () => {
  // Values as `file(1)` reports them for the fixtures.
  assert.deepEqual(readPngInfo(fixture("rgb16.png")), {
    width: 64,
    height: 48,
    bitDepth: 16,
    colorType: 2,
    truncated: false,
    badCrc: [],
  });
  assert.equal(readPngHeader(fixture("palette_trns.png"))?.colorType, 3);
  assert.equal(readPngHeader(fixture("gray_alpha.png"))?.colorType, 4);
  assert.equal(readPngHeader(fixture("rgba.png"))?.colorType, 6);
});

Deno.test("readPngInfo: truncation and CRC mismatches", () => {
  const png = fixture("quad.png");
  assert.equal(readPngInfo(png.slice(0, png.length - 1))?.truncated, true);
  assert.equal(readPngInfo(png.slice(0, png.length - 12))?.truncated, true); // no IEND
  const bad = png.slice();
  bad[29] ^= 1; // last byte of IHDR's CRC (8 sig + 8 header + 13 data)
  assert.deepEqual(readPngInfo(bad)?.badCrc, ["IHDR"]);
  assert.equal(readPngInfo(png.slice(0, 20)), null);
  assert.equal(hasPngSignature(fixture("quad_baseline.jpg")), false);
});

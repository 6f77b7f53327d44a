import assert from "node:assert/strict";
import { readJpegInfo } from "./jpeg_markers.ts";

const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../tests/fixtures/${name}`, import.meta.url));

Deno.test("readJpegInfo: frame header fields (as file(1) reports them)", () => {
  const cases: [string, number, number, number | null][] = [
    // name, components, SOF marker, Adobe transform
    ["quad_baseline.jpg", 3, 0xc0, null],
    ["quad_progressive.jpg", 3, 0xc2, null],
    ["quad_gray.jpg", 1, 0xc0, null],
    ["ramp_cmyk.jpg", 4, 0xc0, 0],
    ["ramp_ycck.jpg", 4, 0xc0, 2],
  ];
  for (const [name, components, sof, adobe] of cases) {
    const info = readJpegInfo(fixture(name));
    assert.ok(info, name);
    assert.deepEqual(
      [
        info.width,
        info.height,
        info.precision,
        info.components,
        info.sofMarker,
        info.adobeTransform,
        info.hasEoi,
      ],
      [64, 48, 8, components, sof, adobe, true],
      name,
    );
  }
});

Deno.test("readJpegInfo: EXIF payload starts with the TIFF header", () => {
  const exif = readJpegInfo(fixture("orient_6_le.jpg"))?.exif;
  assert.ok(exif);
  assert.deepEqual(Array.from(exif.subarray(0, 4)), [0x49, 0x49, 0x2a, 0x00]); // "II*\0"
  assert.equal(readJpegInfo(fixture("quad_baseline.jpg"))?.exif, null);
});

Deno.test("readJpegInfo: EOI detection through every scan of a progressive file", () => {
  const full = fixture("quad_progressive.jpg");
  for (let cut = full.length - 1; cut > 0; cut--) {
    const info = readJpegInfo(full.slice(0, cut));
    assert.ok(info === null || !info.hasEoi, `cut at ${cut}`);
  }
  assert.equal(readJpegInfo(full.slice(0, 10)), null);
  assert.equal(readJpegInfo(new Uint8Array([0x89, 0x50])), null);
  // headerOnly stops at SOF.
  assert.equal(readJpegInfo(full, true)?.hasEoi, false);
});

Deno.test("readJpegInfo: a second, broken frame header does not hide the first", () => {
  const full = fixture("quad_baseline.jpg");
  // Find the end of SOF0 and insert a 4-byte SOF1 segment with length 2.
  let i = 2;
  while (full[i + 1] !== 0xc0) i += 2 + ((full[i + 2] << 8) | full[i + 3]);
  const sofEnd = i + 2 + ((full[i + 2] << 8) | full[i + 3]);
  const bytes = new Uint8Array(full.length + 4);
  bytes.set(full.subarray(0, sofEnd));
  bytes.set([0xff, 0xc1, 0x00, 0x02], sofEnd);
  bytes.set(full.subarray(sofEnd), sofEnd + 4);
  const info = readJpegInfo(bytes);
  assert.deepEqual([info?.width, info?.height, info?.sofMarker], [
    64,
    48,
    0xc0,
  ]);
  assert.deepEqual(readJpegInfo(bytes, true)?.sofMarker, 0xc0);
});

import assert from "node:assert/strict";
import { applyOrientation, readExifOrientation } from "./exif.ts";

/** A minimal TIFF block with one IFD0 entry (tag 0x0112, SHORT). */
function tiff(orientation: number, littleEndian: boolean): Uint8Array {
  const b = new Uint8Array(26);
  const v = new DataView(b.buffer);
  b.set(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d]);
  v.setUint16(2, 42, littleEndian);
  v.setUint32(4, 8, littleEndian);
  v.setUint16(8, 1, littleEndian);
  v.setUint16(10, 0x0112, littleEndian);
  v.setUint16(12, 3, littleEndian);
  v.setUint32(14, 1, littleEndian);
  v.setUint16(18, orientation, littleEndian);
  return b;
}

Deno.test("readExifOrientation: both byte orders, malformed blocks", () => {
  for (let o = 1; o <= 8; o++) {
    assert.equal(readExifOrientation(tiff(o, true)), o);
    assert.equal(readExifOrientation(tiff(o, false)), o);
  }
  assert.equal(readExifOrientation(tiff(3, true).subarray(0, 12)), null);
  assert.equal(
    readExifOrientation(new TextEncoder().encode("not a tiff block")),
    null,
  );
});

/** A 3x2 image whose pixel k has all four bytes = k + 1. */
const img = {
  width: 3,
  height: 2,
  data: new Uint8Array(24).map((_, i) => (i >> 2) + 1),
};
/** Pixel ids of a result, row by row. */
const ids = (im: { width: number; height: number; data: Uint8Array }) =>
  Array.from(
    { length: im.height },
    (_, y) =>
      Array.from(
        { length: im.width },
        (_, x) => im.data[(y * im.width + x) * 4],
      ),
  );

Deno.test("applyOrientation: the 8 EXIF transforms by hand", () => {
  // Source:  1 2 3
  //          4 5 6
  const want: Record<number, number[][]> = {
    1: [[1, 2, 3], [4, 5, 6]],
    2: [[3, 2, 1], [6, 5, 4]], // mirror left-right
    3: [[6, 5, 4], [3, 2, 1]], // rotate 180
    4: [[4, 5, 6], [1, 2, 3]], // mirror top-bottom
    5: [[1, 4], [2, 5], [3, 6]], // transpose
    6: [[4, 1], [5, 2], [6, 3]], // rotate 90 clockwise
    7: [[6, 3], [5, 2], [4, 1]], // transverse
    8: [[3, 6], [2, 5], [1, 4]], // rotate 90 counter-clockwise
  };
  for (let o = 1; o <= 8; o++) {
    assert.deepEqual(
      ids(applyOrientation(img, o)),
      want[o],
      `orientation ${o}`,
    );
  }
  assert.equal(applyOrientation(img, 1), img);
  assert.equal(applyOrientation(img, 9), img);
});

Deno.test("applyOrientation works on a view at an unaligned offset", () => {
  const buf = new Uint8Array(25);
  buf.set(img.data, 1);
  const view = { ...img, data: buf.subarray(1) };
  assert.deepEqual(ids(applyOrientation(view, 6)), [[4, 1], [5, 2], [6, 3]]);
});

import assert from "node:assert/strict";
import { applyOrientation, readExifOrientation, resetExifOrientation } from "./exif.ts";

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

Deno.test("resetExifOrientation: both byte orders, SHORT and LONG, only the value changes", () => {
  for (const le of [true, false]) {
    for (let o = 1; o <= 8; o++) {
      const block = tiff(o, le);
      const reset = resetExifOrientation(block);
      assert.equal(readExifOrientation(reset), 1);
      assert.equal(readExifOrientation(block), o, "the input is not modified");
      const changed = [...reset].flatMap((b, i) => b === block[i] ? [] : [i]);
      assert.ok(changed.every((i) => i === 18 || i === 19), `le=${le} o=${o}: ${changed}`);
    }
    const long = tiff(6, le);
    new DataView(long.buffer).setUint16(12, 4, le); // type LONG
    new DataView(long.buffer).setUint32(18, 6, le);
    assert.equal(readExifOrientation(long), 6);
    assert.equal(readExifOrientation(resetExifOrientation(long)), 1);
  }
});

Deno.test("resetExifOrientation: hostile blocks (truncated, offsets past the end, loops, noise) never throw", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const cases: Uint8Array[] = [new Uint8Array(0), new Uint8Array(7)];
  for (const le of [true, false]) {
    const good = tiff(6, le);
    for (let n = 0; n < good.length; n++) cases.push(good.subarray(0, n)); // truncated
    const past = good.slice(); // IFD0 offset past the end
    new DataView(past.buffer).setUint32(4, 0xfffffff0, le);
    cases.push(past);
    const count = good.slice(); // more entries than bytes
    new DataView(count.buffer).setUint16(8, 0xffff, le);
    cases.push(count);
    const loop = new Uint8Array(30); // IFD0's next-IFD pointer points at itself
    loop.set(good.subarray(0, 8));
    new DataView(loop.buffer).setUint32(22, 8, le);
    cases.push(loop);
    for (let k = 0; k < 500; k++) { // noise over a valid header
      const b = good.slice();
      for (let m = 0; m < 3; m++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
      cases.push(b);
    }
  }
  for (const block of cases) {
    const reset = resetExifOrientation(block);
    assert.equal(reset.length, block.length);
    const o = readExifOrientation(reset);
    assert.ok(o === null || o === 1 || readExifOrientation(block) === o);
  }
});

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

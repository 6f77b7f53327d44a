/**
 * A file libjpeg/libpng decode with only a warning is processed, its
 * warning is in the log (stderr) and the report, and the run exits 0; a
 * file zpix really cannot decode (lossless JPEG) fails by name. Real zpix
 * processes, real files made from the shipped fixtures.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32 } from "../ops/png_chunks.ts";
import { readReport, startRun, withRunDir } from "./reliability_helpers.ts";

const fixture = (name: string) => Deno.readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** The inputs with one forgivable fault each, and the warning each must give. */
function forgivable(): Record<string, [Uint8Array, string]> {
  const png = fixture("quad.png");
  const srgb = new Uint8Array(13);
  new DataView(srgb.buffer).setUint32(0, 1);
  srgb.set([0x73, 0x52, 0x47, 0x42, 4], 4); // "sRGB", intent 4
  new DataView(srgb.buffer).setUint32(9, crc32(srgb, 4, 9));
  const jpeg = fixture("quad_baseline.jpg");
  const eoi = jpeg.length - 2;
  return {
    "no_iend.png": [
      png.slice(0, png.length - 12),
      "PNG data ends early: no IEND chunk after its image data",
    ],
    "intent4.png": [
      new Uint8Array([...png.subarray(0, 33), ...srgb, ...png.subarray(33)]),
      "ignored a malformed PNG ancillary chunk (sRGB rendering intent 4)",
    ],
    "stray_soi.jpg": [
      new Uint8Array([...jpeg.subarray(0, eoi), 0xff, 0xd8, 0xff, 0xd9]),
      `ignored a stray 0xD8 marker at byte ${eoi}, after the complete image`,
    ],
    "damaged_ycck.jpg": [
      fixture("ramp_ycck_flip.jpg"), // bits flipped in the entropy data
      "JPEG decoder warning: Corrupt JPEG data: bad Huffman code",
    ],
  };
}

for (const mode of ["sequential", "parallel"] as const) {
  Deno.test(`${mode}: forgiven faults are warnings in the log and report, exit code 0`, async () => {
    await withRunDir(async (dir) => {
      const input = join(dir, "in");
      await Deno.mkdir(input);
      const files = forgivable();
      for (const [name, [bytes]] of Object.entries(files)) {
        await Deno.writeFile(join(input, name), bytes);
      }
      const run = startRun([
        mode,
        ...["--input", input, "--output", join(dir, "out"), "--size", "32", "32"],
        ...["--report", join(dir, "report.json")],
        ...(mode === "parallel" ? ["-w", "1"] : []),
      ]);
      const { code, stderr } = await run.done;
      assert.equal(code, 0, stderr);
      const report = await readReport(join(dir, "report.json"));
      assert.equal(report.processed, 4);
      assert.deepEqual(report.failed, []);
      const want = Object.entries(files).map(([path, [, warning]]) => ({ path, warning }));
      const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
      assert.deepEqual(report.warnings.toSorted(byPath), want.toSorted(byPath));
      for (const { path, warning } of want) {
        assert.ok(stderr.includes(`zpix: warning: ${path}: ${warning}`), `${path} in\n${stderr}`);
      }
    });
  });
}

Deno.test("a lossless JPEG fails by name; an arithmetic-coded one is processed", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await Deno.mkdir(input);
    const lossless = fixture("quad_baseline.jpg").slice();
    const sof = lossless.findIndex((b, i) => b === 0xff && lossless[i + 1] === 0xc0);
    lossless[sof + 1] = 0xc3;
    await Deno.writeFile(join(input, "lossless.jpg"), lossless);
    await Deno.writeFile(join(input, "arith.jpg"), fixture("quad_arith.jpg"));
    const run = startRun([
      "sequential",
      ...["--input", input, "--output", join(dir, "out"), "--size", "32", "32"],
      ...["--report", join(dir, "report.json")],
    ]);
    const { code } = await run.done;
    assert.equal(code, 1);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual(report.failed, [{
      path: "lossless.jpg",
      error: "lossless JPEG is not supported",
    }]);
    assert.equal(report.processed, 1);
    assert.ok((await Deno.stat(join(dir, "out", "arith.jpg"))).size > 0);
  });
});

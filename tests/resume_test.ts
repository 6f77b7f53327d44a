/**
 * `--skip-existing` when outputs are not named like their inputs
 * (`--format png` from `.jpg` inputs): a resumed run skips exactly the
 * images whose *output* exists, whatever files named like the inputs lie
 * in the output folder. Real zpix processes, real files.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../ops/codec.ts";
import { listTree, readReport, writeImages } from "./reliability_helpers.ts";
import { withTempDir, zpix } from "./helpers.ts";

const INPUTS = ["a.jpg", "b.jpg", "c.JPG", "d.jpeg", "e.png", "sub/f.jpg", "sub/g.jpg"];
const OUTPUTS = ["a.png", "b.png", "c.png", "d.png", "e.png", "sub/f.png", "sub/g.png"];

async function writeInputs(input: string): Promise<void> {
  await writeImages(input, INPUTS.filter((name) => !name.startsWith("sub/")));
  await writeImages(join(input, "sub"), ["f.jpg", "g.jpg"]);
}

for (const mode of ["sequential", "parallel"] as const) {
  Deno.test(`${mode} --format png --skip-existing: skips exactly the images whose .png output exists`, async () => {
    await withTempDir(async (dir) => {
      const input = join(dir, "in");
      const out = join(dir, "out");
      await writeInputs(input);
      const args = (...extra: string[]) => [
        mode,
        "-i",
        input,
        "-o",
        out,
        "-r",
        "--format",
        "png",
        "--size",
        "16x16",
        "-q",
        "--report",
        join(dir, "report.json"),
        ...(mode === "parallel" ? ["-w", "1"] : []),
        ...extra,
      ];
      const first = await zpix(args());
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual((await listTree(out)).filter((p) => p !== "sub"), OUTPUTS.sort());

      // Interrupted state: b.png and sub/g.png missing. Leftovers named like the inputs (an
      // earlier --format same run) must not count as outputs; kept outputs must not be redone.
      await Deno.remove(join(out, "b.png"));
      await Deno.remove(join(out, "sub/g.png"));
      await Deno.copyFile(join(input, "b.jpg"), join(out, "b.jpg"));
      await Deno.copyFile(join(input, "sub/g.jpg"), join(out, "sub/g.jpg"));
      const sentinel = new TextEncoder().encode("not redone");
      for (const kept of ["a.png", "c.png", "sub/f.png"]) {
        await Deno.writeFile(join(out, kept), sentinel);
      }

      const resumed = await zpix(args("--skip-existing"));
      assert.equal(resumed.code, 0, resumed.stderr);
      const report = await readReport(join(dir, "report.json"));
      assert.deepEqual(
        { skipped: report.skipped, processed: report.processed, failed: report.failed },
        { skipped: 5, processed: 2, failed: [] },
        "a, c, d, e and sub/f have their .png: skipped; b and sub/g are redone",
      );
      for (const kept of ["a.png", "c.png", "sub/f.png"]) {
        assert.deepEqual(await Deno.readFile(join(out, kept)), sentinel, `${kept} was redone`);
      }
      for (const redone of ["b.png", "sub/g.png"]) {
        const decoded = await decodeImage(await Deno.readFile(join(out, redone)));
        assert.equal(decoded.format, "png", redone);
        assert.deepEqual([decoded.image.width, decoded.image.height], [16, 16], redone);
      }
      // The leftovers are left alone.
      assert.deepEqual(
        await Deno.readFile(join(out, "b.jpg")),
        await Deno.readFile(join(input, "b.jpg")),
      );

      // Everything there now: a third run skips all and writes nothing.
      const again = await zpix(args("--skip-existing"));
      assert.equal(again.code, 0, again.stderr);
      const last = await readReport(join(dir, "report.json"));
      assert.deepEqual([last.skipped, last.processed], [INPUTS.length, 0]);
    });
  });
}

/**
 * The everyday flags users of sharp, vips and ImageMagick reach for, end to
 * end with real files and real workers: `--name` templates (and resuming a
 * run under them), `--dry-run`, one file as `--input`, `--output -`, and
 * `--background` / `--no-enlarge`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../ops/codec.ts";
import { writeSamples } from "../cli/demo.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { withTempDir, zpix, ZPIX_FLAGS } from "./helpers.ts";

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function size(path: string): Promise<[number, number]> {
  const { image } = await decodeImage(await Deno.readFile(path), { maxPixels: 1e8 });
  return [image.width, image.height];
}

Deno.test("--name '{name}_{w}x{h}.{ext}' names outputs in both modes; --skip-existing resumes by those names", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    const count = await writeSamples(input, 4);
    const inputs = await names(input);
    const expected = inputs.map((n) => n.replace(/\.(\w+)$/, "_thumb_40x30.png")).sort();
    for (const mode of ["sequential", "parallel"]) {
      const output = join(dir, mode);
      const args = [
        mode,
        "-i",
        input,
        "-o",
        output,
        "--size",
        "40",
        "30",
        "--format",
        "png",
        "--name",
        "{name}_thumb_{w}x{h}.{ext}",
        "--report",
        join(dir, `${mode}.json`),
        ...(mode === "parallel" ? ["-w", "2"] : []),
      ];
      const first = await zpix(args);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(await names(output), expected, mode);
      for (const name of expected) assert.deepEqual(await size(join(output, name)), [40, 30]);
      // Resume: one output removed, the rest skipped by their --name'd names.
      await Deno.remove(join(output, expected[1]));
      const again = await zpix([...args, "--skip-existing"]);
      assert.equal(again.code, 0, again.stderr);
      const report = JSON.parse(await Deno.readTextFile(join(dir, `${mode}.json`)));
      assert.deepEqual([report.skipped, report.processed], [count - 1, 1], mode);
      assert.deepEqual(await names(output), expected, mode);
    }
  });
});

Deno.test("--dry-run lists what would be written, skipped and refused, and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 1); // 500x375 or so: over --max-pixels 10000
    const [big] = await names(input);
    const fixture = join(SOURCE_ROOT, "tests", "fixtures", "quad_baseline.jpg"); // 64x48
    const [a, b] = ["a.jpg", "b.jpg"];
    for (const name of [a, b]) await Deno.copyFile(fixture, join(input, name));
    await Deno.writeTextFile(join(input, "notes.jpg"), "not a picture");
    const output = join(dir, "out");
    await Deno.mkdir(output);
    await Deno.writeFile(join(output, a), new Uint8Array([1]));
    const report = join(dir, "run.json");
    for (const mode of ["sequential", "parallel"]) {
      const run = await zpix([
        mode,
        "-i",
        input,
        "-o",
        output,
        "--skip-existing",
        "--max-pixels",
        "10000",
        "--size", // the default 512x512 would pass the limit: a usage error
        "64x48",
        "--dry-run",
        "--report",
        report,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trimEnd().split("\n");
      assert.deepEqual(lines, [
        `skip ${join(output, a)} (exists)`,
        `write ${join(output, b)} (from ${b})`,
        "refuse notes.jpg: not a JPEG, PNG, WebP, AVIF, HEIC or GIF file (looks like text)",
        `refuse ${big}: ${lines[3].slice(`refuse ${big}: `.length)}`,
        "dry run: 1 to write, 1 to skip, 2 refused; nothing was written",
      ], mode);
      assert.match(
        lines[3],
        /^refuse .*: image is \d+x\d+ = [\d,]+ pixels, over the limit of 10,000 pixels \(--max-pixels\)$/,
      );
      assert.deepEqual(await names(output), [a], `${mode}: nothing written`);
      assert.equal(await exists(report), false, `${mode}: no report`);
    }
  });
});

Deno.test("one file as --input, in both modes; --output - writes its bytes to stdout", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 3);
    const [first] = await names(input);
    const file = join(input, first);
    for (const mode of ["sequential", "parallel"]) {
      const output = join(dir, mode);
      const run = await zpix([mode, "-i", file, "-o", output, "--size", "24x16", "-q"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /server has processed 1\/1 images/);
      assert.deepEqual(await names(output), [first], `${mode}: only that file`);
    }
    const written = await Deno.readFile(join(dir, "sequential", first));
    for (const mode of ["sequential", "parallel"]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          ...ZPIX_FLAGS,
          join(SOURCE_ROOT, "main.ts"),
          mode,
          "-i",
          file,
          "-o",
          "-",
          "--size",
          "24x16",
          "-q",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.deepEqual(out.stdout, written, `${mode}: stdout holds the image, and only it`);
      assert.match(stderr, /server has processed 1\/1 images/, "the closing line on stderr");
    }
    const folder = await zpix(["sequential", "-i", input, "-o", "-"]);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /--output - writes one image to standard output/);
  });
});

Deno.test("--background and --no-enlarge apply to every resize step", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 1);
    const [name] = await names(input);
    const [width, height] = await size(join(input, name));
    const output = join(dir, "out");
    const run = await zpix([
      "sequential",
      "-i",
      input,
      "-o",
      output,
      "--op",
      `resize=${width * 4}x${height * 8}:contain:top`,
      "--background",
      "#00ff0080",
      "--no-enlarge",
      "--format",
      "png",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const out = join(output, name.replace(/\.\w+$/, ".png"));
    const { image } = await decodeImage(await Deno.readFile(out), { maxPixels: 1e8 });
    // Not enlarged: the image sits at the top, unscaled, padded to the box with the background.
    assert.deepEqual([image.width, image.height], [width * 4, height * 8]);
    const last = (image.width * image.height - 1) * 4;
    assert.deepEqual([...image.data.subarray(last, last + 4)], [0, 255, 0, 128]);
    const bad = await zpix(["sequential", "-i", input, "-o", output, "--background", "mauve"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--background: colour "mauve"/);
  });
});

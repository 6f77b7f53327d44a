/**
 * End-to-end: the real CLI (sequential, and parallel with sandboxed local
 * workers) on a folder of every input format, some with non-sRGB ICC
 * profiles (tests/fixtures/formats, made by make_formats.py). Outputs are
 * compared with the references' sRGB pixels (Pillow + LittleCMS, dwebp,
 * heif-convert): every output within 30 dB, 28 for lossy chains, as
 * issue 14 asks. Corrupt files of each new format fail alone, with one line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type Format, sniffFormat } from "../ops/formats.ts";
import { decodeAny, readIcc } from "../ops/format_io.ts";
import { decodeImage, flattenOnWhite } from "../ops/codec.ts";
import { psnrRgb } from "../ops/kernels/test_util.ts";
import { serveToRemoteWorker, withTempDir, zpix } from "./helpers.ts";

const FIXTURES = new URL("./fixtures/formats/", import.meta.url);
const NAMES = [...Deno.readDirSync(FIXTURES)]
  .filter((e) => e.isFile && !e.name.endsWith(".icc"))
  .map((e) => e.name)
  .sort();

function copyFixtures(dir: string): string {
  const input = join(dir, "in");
  Deno.mkdirSync(input);
  for (const name of NAMES) Deno.copyFileSync(new URL(name, FIXTURES), join(input, name));
  return input;
}

/** The output name and format `--format same` gives each input. */
function sameOutput(name: string): [string, Format] {
  if (name.endsWith(".heic")) return [name.replace(/\.heic$/, ".jpg"), "jpeg"];
  if (name.endsWith(".gif")) return [name.replace(/\.gif$/, ".png"), "png"];
  return [name, sniffFormat(Deno.readFileSync(new URL(name, FIXTURES)))!];
}

async function checkOutputs(
  output: string,
  names: string[],
  outputFor: (name: string) => [string, Format],
): Promise<void> {
  for (const name of names) {
    const [outName, format] = outputFor(name);
    const bytes = Deno.readFileSync(join(output, outName));
    assert.equal(sniffFormat(bytes), format, outName);
    const got = (await decodeAny(bytes)).image;
    const ref = (await decodeImage(Deno.readFileSync(new URL(`expected/${name}.png`, FIXTURES))))
      .image;
    assert.deepEqual([got.width, got.height], [ref.width, ref.height], outName);
    const lossy = format !== "png" || !/\.(png|gif)$/.test(name);
    // Compared as seen on white: lossy WebP/AVIF may change colours under transparent pixels.
    const psnr = psnrRgb(flattenOnWhite(got.data), flattenOnWhite(ref.data));
    assert.ok(psnr >= (lossy ? 28 : 30), `${name} → ${outName}: ${psnr.toFixed(1)} dB`);
  }
}

// An identity pipeline (two flips), so outputs compare with the references pixel for pixel.
const IDENTITY = ["--op", "flip=h", "--op", "flip=h", "--quality", "90"];

Deno.test("formats e2e: the default pattern takes every format; --format same keeps each (HEIC → JPEG, GIF → PNG) in true sRGB", async () => {
  await withTempDir(async (dir) => {
    const input = copyFixtures(dir);
    const out = join(dir, "out");
    const run = await zpix(["sequential", "-i", input, "-o", out, ...IDENTITY, "-q"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal([...Deno.readDirSync(out)].length, NAMES.length);
    await checkOutputs(out, NAMES, sameOutput);
  });
});

Deno.test("formats e2e: parallel workers write --format webp and avif from every input format", async () => {
  await withTempDir(async (dir) => {
    const input = copyFixtures(dir);
    for (const format of ["webp", "avif"] as const) {
      const out = join(dir, format);
      const run = await zpix([
        "parallel",
        "-i",
        input,
        "-o",
        out,
        "--workers",
        "2",
        "--format",
        format,
        ...IDENTITY,
        "-q",
      ]);
      assert.equal(run.code, 0, run.stderr);
      await checkOutputs(out, NAMES, (n) => [n.replace(/\.[a-z]+$/, `.${format}`), format]);
    }
  });
});

Deno.test("formats e2e: a corrupt WebP, AVIF, HEIC or GIF fails alone with one line", async () => {
  await withTempDir(async (dir) => {
    const input = copyFixtures(dir);
    const bad: Record<string, Uint8Array> = {};
    for (const name of ["webp_lossy.webp", "avif_plain.avif", "heic_plain.heic", "gif_anim.gif"]) {
      const bytes = Deno.readFileSync(new URL(name, FIXTURES));
      const cut = bytes.slice(0, Math.floor(bytes.length * 0.4));
      const flipped = bytes.slice();
      for (let i = 40; i < flipped.length; i += 7) flipped[i] ^= 0x5a;
      bad[`cut_${name}`] = cut;
      bad[`garbled_${name}`] = flipped;
    }
    for (const [name, bytes] of Object.entries(bad)) Deno.writeFileSync(join(input, name), bytes);
    const out = join(dir, "out");
    const report = join(dir, "run.json");
    const run = await zpix([
      "parallel",
      "-i",
      input,
      "-o",
      out,
      "--workers",
      "2",
      ...IDENTITY,
      "--report",
      report,
      "-q",
    ]);
    assert.equal(run.code, 1, run.stderr);
    const failed: { path: string; error: string }[] = JSON.parse(Deno.readTextFileSync(report))
      .failed;
    const failedNames = failed.map((f) => f.path).sort();
    // Every good fixture is done; a damaged file either fails with one line or decodes partially.
    for (const f of failed) {
      assert.ok(f.path in bad, `${f.path} failed: ${f.error}`);
      assert.ok(!f.error.includes("\n") && f.error.length < 200, f.error);
      assert.doesNotMatch(f.error, /attempts|worker process/, f.error);
    }
    assert.ok(failedNames.length >= 4, `failed: ${failedNames}`);
  });
});

Deno.test("formats e2e: --keep-icc keeps the pixels and writes the profile (parallel workers)", async () => {
  await withTempDir(async (dir) => {
    const input = copyFixtures(dir);
    const out = join(dir, "out");
    const run = await zpix([
      "parallel",
      "-i",
      input,
      "-o",
      out,
      "--workers",
      "2",
      "--keep-icc",
      "--format",
      "png",
      ...IDENTITY,
      "-q",
    ]);
    assert.equal(run.code, 0, run.stderr);
    for (const name of ["jpeg_prophoto.jpg", "png_p3.png", "webp_p3.webp", "heic_prophoto.heic"]) {
      const bytes = Deno.readFileSync(join(out, name.replace(/\.[a-z]+$/, ".png")));
      const source = Deno.readFileSync(new URL(name, FIXTURES));
      const format = sniffFormat(source)!;
      assert.deepEqual(await readIcc(bytes, "png"), await readIcc(source, format), name);
      // unconverted pixels: the source's own, not the sRGB reference
      const kept = await decodeAny(bytes, { keepIcc: true });
      const original = await decodeAny(source, { keepIcc: true });
      assert.ok(psnrRgb(kept.image.data, original.image.data) >= 45, name);
      // and a colour-managed reader of the output gets the true colours back
      const ref = (await decodeImage(Deno.readFileSync(new URL(`expected/${name}.png`, FIXTURES))))
        .image;
      assert.ok(psnrRgb((await decodeAny(bytes)).image.data, ref.data) >= 40, name);
    }
  });
});

Deno.test("formats e2e: a remote worker in its sandbox (node_modules, worker/, task/, core/, ops/ only) decodes every format and converts colour", async () => {
  await withTempDir(async (dir) => {
    const input = copyFixtures(dir);
    const out = join(dir, "out");
    const result = await serveToRemoteWorker(["-i", input, "-o", out, ...IDENTITY, "-q"]);
    assert.equal(result.code, 0, result.stderr);
    await checkOutputs(out, NAMES, sameOutput);
  });
});

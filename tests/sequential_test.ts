/**
 * End-to-end tests of `zpix sequential`: the real CLI in a subprocess with
 * the permission flags of `deno task sequential`, on a temporary folder of
 * real files (synthetic samples plus the codec fixtures: CMYK, grayscale,
 * progressive, EXIF orientation, PNG alpha/palette/16-bit) and broken ones.
 * Outputs are decoded with ops/codec.ts and, for JPEGs, with jpeg-js too.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import jpeg from "jpeg-js";
import { decodeImage, encodeImage } from "../ops/codec.ts";
import type { Image } from "../ops/image.ts";
import { sampleImage } from "../ops/samples.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = join(ROOT, "tests", "fixtures");

/** The permission flags of `deno task sequential` (deno.json). */
const SEQUENTIAL_FLAGS = ["--allow-read", "--allow-write", "--allow-env=INIT_CWD"];

/** What a finished zpix process said. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run <flags of deno task sequential> main.ts ARGS` from the repository root. */
async function zpix(...args: string[]): Promise<Run> {
  return await zpixFrom(undefined, ...args);
}

/** {@link zpix} as `deno task` runs it when typed in `userDir`: INIT_CWD names that folder. */
async function zpixFrom(userDir: string | undefined, ...args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...SEQUENTIAL_FLAGS, "main.ts", ...args],
    cwd: ROOT,
    env: userDir ? { INIT_CWD: userDir } : {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "zpix-seq-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every file under `root`, relative, sorted. */
async function listFiles(root: string, dir = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory) files.push(...await listFiles(root, rel));
    else files.push(rel);
  }
  return files.sort();
}

/** Upright input sizes of the good inputs, known from how they are made. */
type Inputs = Record<string, [number, number]>;

/** The fixtures copied in: all 64x48, orientation 6 turns upright to 48x64. */
const FIXTURE_SIZES: Inputs = {
  "quad_cmyk.jpg": [64, 48],
  "ramp_ycck.jpg": [64, 48],
  "quad_gray.jpg": [64, 48],
  "quad_progressive.jpg": [64, 48],
  "orient_6.jpg": [48, 64],
  "rgba.png": [64, 48],
  "palette_trns.png": [64, 48],
  "rgb16.png": [64, 48],
  "gray_alpha.png": [64, 48],
};

/** Inputs that cannot be decoded, and part of the reason each must give. */
const BROKEN: Record<string, RegExp> = {
  "broken.jpg": /JPEG/i,
  "text.png": /not a JPEG, PNG, WebP, AVIF, HEIC or GIF file/i,
  "empty.jpg": /empty/i,
  "cut.png": /truncated|corrupt/i,
};

/**
 * Writes the test input folder: synthetic samples (JPEG and PNG, one with
 * alpha, upper-case extensions), fixture copies, a sub-folder, broken files
 * and a text file. Returns the good inputs with their upright sizes.
 */
async function makeInput(dir: string, broken = true): Promise<Inputs> {
  await Deno.mkdir(join(dir, "sub", "deeper"), { recursive: true });
  const write = async (name: string, image: Image, format: "jpeg" | "png") =>
    await Deno.writeFile(join(dir, name), await encodeImage(image, format, { quality: 90 }));
  await write("a.jpg", sampleImage(40, 30, 1), "jpeg");
  await write("b.png", sampleImage(30, 40, 2), "png");
  await write("c_alpha.png", sampleImage(36, 36, 3, true), "png");
  await write("D.JPG", sampleImage(50, 20, 4), "jpeg");
  await write("e.Jpeg", sampleImage(20, 50, 5), "jpeg");
  await write("sub/f.jpg", sampleImage(24, 18, 6), "jpeg");
  await write("sub/deeper/g.PNG", sampleImage(18, 24, 7), "png");
  for (const name of Object.keys(FIXTURE_SIZES)) {
    await Deno.copyFile(join(FIXTURES, name), join(dir, name));
  }
  await Deno.writeTextFile(join(dir, "notes.txt"), "not an image, not matched");
  if (broken) {
    // a JPEG header followed by garbage
    const head = (await Deno.readFile(join(FIXTURES, "quad_baseline.jpg"))).subarray(0, 20);
    await Deno.writeFile(join(dir, "broken.jpg"), new Uint8Array([...head, ...new Uint8Array(50)]));
    await Deno.writeTextFile(join(dir, "text.png"), "hello, I am text in disguise\n");
    await Deno.writeFile(join(dir, "empty.jpg"), new Uint8Array(0));
    const png = await Deno.readFile(join(FIXTURES, "rgba.png"));
    await Deno.writeFile(join(dir, "cut.png"), png.subarray(0, png.length >> 1));
  }
  return {
    "a.jpg": [40, 30],
    "b.png": [30, 40],
    "c_alpha.png": [36, 36],
    "D.JPG": [50, 20],
    "e.Jpeg": [20, 50],
    "sub/f.jpg": [24, 18],
    "sub/deeper/g.PNG": [18, 24],
    ...FIXTURE_SIZES,
  };
}

const inRoot = (inputs: Inputs) =>
  Object.fromEntries(Object.entries(inputs).filter(([name]) => !name.includes("/")));

/** Output name for a format: same name, or the base name with the format's extension. */
function renamed(input: string, format: "same" | "jpeg" | "png"): string {
  return format === "same"
    ? input
    : input.replace(/\.[^./]+$/, format === "jpeg" ? ".jpg" : ".png");
}

/** Decodes an output with ops/codec.ts, and JPEGs with jpeg-js too; checks both agree. */
async function decodeOutput(path: string): Promise<Image> {
  const bytes = await Deno.readFile(path);
  const { image, format } = await decodeImage(bytes);
  assert.equal(format, /\.jpe?g$/i.test(path) ? "jpeg" : "png", `${path}: format follows the name`);
  if (format === "jpeg") {
    const other = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    assert.deepEqual([other.width, other.height], [image.width, image.height], path);
    // jpeg-js upsamples chroma more simply than libjpeg: compare luma, which is not subsampled
    const luma = (d: Uint8Array, i: number) => 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    let diff = 0;
    for (let i = 0; i < image.data.length; i += 4) {
      diff += Math.abs(luma(image.data, i) - luma(other.data, i));
    }
    const mean = diff / (image.width * image.height);
    assert.ok(mean < 2, `${path}: jpeg-js and codec.ts disagree (mean luma diff ${mean})`);
  }
  return image;
}

/** Asserts what every run's streams must satisfy: no stack trace anywhere. */
function assertNoStack(run: Run): void {
  for (const text of [run.stdout, run.stderr]) {
    assert.doesNotMatch(text, /^\s+at /m, text);
    assert.doesNotMatch(text, /at file:\/\//, text);
    assert.doesNotMatch(text, /\b(Type|Range|Reference|Syntax)Error\b/, text);
  }
}

/** The closing line, last on stdout; returns N and M. */
function closing(run: Run): [number, number] {
  const lines = run.stdout.trimEnd().split("\n");
  const match = /^server has processed (\d+)\/(\d+) images in \d+\.\d\ds(; .*)?$/.exec(
    lines.at(-1)!,
  );
  assert.ok(match, `closing line: ${JSON.stringify(run.stdout)}`);
  return [Number(match[1]), Number(match[2])];
}

Deno.test("sequential: a mixed folder, --recursive, report, broken files fail cleanly", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), output = join(dir, "out", "nested");
    const good = await makeInput(input);
    const before = await listFiles(input);
    const report = join(dir, "report.json");
    const run = await zpix(
      "sequential",
      "--input",
      input,
      "--output",
      output,
      "--recursive",
      "--report",
      report,
    );
    assertNoStack(run);
    assert.equal(run.code, 1, run.stderr);
    const total = Object.keys(good).length + Object.keys(BROKEN).length;
    assert.deepEqual(closing(run), [Object.keys(good).length, total]);

    // one output per good input, same relative path and name, default 512x512
    assert.deepEqual(await listFiles(output), Object.keys(good).sort());
    for (const name of Object.keys(good)) {
      const image = await decodeOutput(join(output, name));
      assert.deepEqual([image.width, image.height], [512, 512], name);
    }
    // the input folder is untouched
    assert.deepEqual(await listFiles(input), before);

    const json = JSON.parse(await Deno.readTextFile(report));
    assert.equal(json.mode, "sequential");
    assert.equal(json.total, total);
    assert.equal(json.processed, Object.keys(good).length);
    assert.equal(json.skipped, 0);
    assert.deepEqual(json.workers, []);
    assert.equal(typeof json.seconds, "number");
    assert.ok(json.seconds > 0, `${json.seconds} s for ${json.processed} images`);
    // The rate is the count over the time, to 0.01 image/s.
    assert.equal(json.imagesPerSecond, Math.round((json.processed / json.seconds) * 100) / 100);
    assert.deepEqual(
      json.failed.map((f: { path: string }) => f.path).sort(),
      Object.keys(BROKEN).sort(),
    );
    for (const { path, error } of json.failed as { path: string; error: string }[]) {
      assert.match(error, BROKEN[path], `${path}: ${error}`);
      assert.doesNotMatch(error, /^\w*Error\b|at file:\/\/|\n/, `${path}: ${error}`);
      // the user sees why on stderr too, as a failure, not a warning
      assert.ok(run.stderr.includes(`zpix: failed: ${path}: `), `${path} failed on stderr`);
    }
    const failures = Object.keys(BROKEN).length;
    assert.match(run.stdout, new RegExp(`; ${failures} failed\n$`), "the closing line counts them");
  });
});

Deno.test("sequential: without broken files exit 0; --size W H; not recursive by default", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), output = join(dir, "out");
    const good = inRoot(await makeInput(input, false));
    const run = await zpix("sequential", "-i", input, "-o", output, "--size", "64", "48");
    assertNoStack(run);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(closing(run), [Object.keys(good).length, Object.keys(good).length]);
    assert.deepEqual(await listFiles(output), Object.keys(good).sort());
    for (const name of Object.keys(good)) {
      const image = await decodeOutput(join(output, name));
      assert.deepEqual([image.width, image.height], [64, 48], name);
    }
    // PNG alpha survives a PNG output
    const alpha = await decodeOutput(join(output, "c_alpha.png"));
    assert.ok(alpha.data[3] < 128, "the corner of c_alpha.png stays transparent");
  });
});

Deno.test("sequential: --format png with a resize/gray/threshold pipeline gives B&W PNGs", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), output = join(dir, "out");
    const good = inRoot(await makeInput(input, false));
    const run = await zpix(
      "sequential",
      "-i",
      input,
      "-o",
      output,
      "--format",
      "png",
      "--op",
      "resize=32x24:contain",
      "--op",
      "to_gray",
      "--op",
      "threshold=128",
      "--quiet",
    );
    assertNoStack(run);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "", "--quiet");
    const names = Object.keys(good).map((name) => renamed(name, "png")).sort();
    assert.deepEqual(await listFiles(output), names);
    for (const name of names) {
      const image = await decodeOutput(join(output, name));
      assert.deepEqual([image.width, image.height], [32, 24], name);
      for (let i = 0; i < image.data.length; i += 4) {
        const [r, g, b] = image.data.subarray(i, i + 3);
        assert.ok((r === 0 || r === 255) && g === r && b === r, `${name}: pixel ${i / 4}`);
      }
    }
    // orient_6 is upright 48x64: contained in 32x24 it is 18x24, black bars left and right
    const upright = await decodeOutput(join(output, "orient_6.png"));
    assert.deepEqual([...upright.data.subarray(0, 4)], [0, 0, 0, 255]);
    assert.deepEqual([...upright.data.subarray(31 * 4, 32 * 4)], [0, 0, 0, 255]);
  });
});

Deno.test("sequential: --op without resize keeps each size; --format jpeg renames; --quality", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), hi = join(dir, "hi"), lo = join(dir, "lo");
    const good = inRoot(await makeInput(input, false));
    const args = ["-i", input, "--format", "jpeg", "--op", "gray", "--op", "flip=h", "-q"];
    const high = await zpix("sequential", ...args, "-o", hi, "--quality", "95");
    const low = await zpix("sequential-processing", ...args, "-o", lo, "--quality", "5");
    for (const run of [high, low]) {
      assertNoStack(run);
      assert.equal(run.code, 0, run.stderr);
    }
    const names = Object.keys(good).map((name) => renamed(name, "jpeg")).sort();
    assert.deepEqual(await listFiles(hi), names);
    assert.deepEqual(await listFiles(lo), names);
    let hiBytes = 0, loBytes = 0;
    for (const [name, size] of Object.entries(good)) {
      const out = renamed(name, "jpeg");
      const image = await decodeOutput(join(hi, out));
      assert.deepEqual([image.width, image.height], size, `${out} keeps its (upright) size`);
      for (let i = 0; i < image.data.length; i += 4) {
        const [r, g, b] = image.data.subarray(i, i + 3);
        assert.ok(Math.abs(r - g) <= 3 && Math.abs(g - b) <= 3, `${out}: gray pixel ${i / 4}`);
      }
      hiBytes += (await Deno.stat(join(hi, out))).size;
      loBytes += (await Deno.stat(join(lo, out))).size;
    }
    assert.ok(loBytes < hiBytes * 0.7, `--quality 5 (${loBytes} B) < --quality 95 (${hiBytes} B)`);
  });
});

Deno.test("sequential: the old tool's command line", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), output = join(dir, "out");
    await makeInput(input);
    const run = await zpix(
      "sequential-processing",
      "--path2initial_images",
      input,
      "--path2resized_images",
      output,
      "--image_extension",
      "jpg",
      "--size",
      "16",
      "16",
    );
    assertNoStack(run);
    // *.jpg: a.jpg and the fixtures' .jpg files, plus the broken .jpg ones; not D.JPG nor .png
    const taken = (await listFiles(input)).filter((name) => /^[^/]*\.jpg$/.test(name));
    assert.deepEqual(closing(run), [taken.length - 2, taken.length]);
    assert.equal(run.code, 1);
    assert.deepEqual(
      await listFiles(output),
      taken.filter((name) => !(name in BROKEN)),
    );
  });
});

Deno.test("sequential: usage errors exit 2, one line, nothing written", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in");
    await makeInput(input);
    await Deno.writeTextFile(join(dir, "file"), "x");
    const output = join(dir, "out");
    const cases: [string[], RegExp][] = [
      [["-i", input], /missing --output/],
      [["-o", output], /missing --input/],
      [["-i", input, "-o", input], /must differ/],
      [["-i", join(dir, "nope"), "-o", output], /is not a folder/],
      [["-i", input, "-o", join(dir, "file")], /not a folder/],
      [["-i", input, "-o", output, "--pattern", "*.gif"], /no image/],
      [["-i", input, "-o", output, "--format", "jpeg"], /would both write/],
      [["-i", input, "-o", output, "--op", "blur"], /unknown operation/],
      [["-i", input, "-o", output, "--size", "0x5"], /--size/],
      [["-i", input, "-o", output, "--quality", "101"], /--quality/],
      [["-i", input, "-o", output, "--workers", "2"], /not an option of sequential/],
      [["-i", input, "-o", output, "--bogus"], /unknown option/],
      [["-i", input, "-o", output, "stray"], /unexpected argument/],
      [["-i", input, "-o", output, "--report", "r.txt"], /\.json or \.html/],
      [["-i", input, "-o", output, "--report", join(dir, "no", "r.json")], /does not exist/],
    ];
    // a clash needs two same-named inputs
    await Deno.copyFile(join(FIXTURES, "quad.png"), join(input, "a.png"));
    for (const [args, message] of cases) {
      const run = await zpix("sequential", ...args);
      assertNoStack(run);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stdout, "", args.join(" "));
      const lines = run.stderr.trimEnd().split("\n");
      assert.match(lines[0], /^zpix: error: /, args.join(" "));
      assert.match(lines[0], message, args.join(" "));
      assert.match(lines.at(-1)!, /--help/);
      assert.equal(await Deno.stat(output).catch(() => null), null, `${args.join(" ")} wrote`);
    }
  });
});

Deno.test("sequential: --help for each subcommand and alias lists the flags", async () => {
  const common = [
    "--input",
    "--path2initial_images",
    "--output",
    "--path2resized_images",
    "--pattern",
    "--image_extension",
    "--recursive",
    "--op",
    "resize=WxH",
    "contain",
    "cover",
    "inside",
    "to_gray",
    "threshold=T",
    "flip=h|v|hv",
    "--size",
    "--format",
    "--quality",
    "--report",
  ];
  const cases: [string[], string[]][] = [
    [["sequential", "--help"], common],
    [["sequential-processing", "-h"], common],
    [["help", "sequential"], common],
    [["parallel", "--help"], [...common, "--workers", "--nb_workers"]],
    [["parallel-processing", "--help"], [...common, "--workers"]],
  ];
  for (const [args, flags] of cases) {
    const run = await zpix(...args);
    assert.equal(run.code, 0, args.join(" "));
    for (const flag of flags) assert.ok(run.stdout.includes(flag), `${args.join(" ")}: ${flag}`);
  }
  const none = await zpix();
  assert.equal(none.code, 2);
  assert.match(none.stderr, /sequential/);
});

Deno.test("sequential: no temporary file is left, a second run overwrites cleanly", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), output = join(dir, "out");
    const good = await makeInput(input);
    for (let i = 0; i < 2; i++) {
      const run = await zpix("sequential", "-i", input, "-o", output, "-r", "--size", "8x8", "-q");
      assert.equal(run.code, 1);
    }
    const files = await listFiles(output);
    assert.deepEqual(files, Object.keys(good).sort());
    assert.ok(files.every((name) => !name.includes(".zpix-tmp-")));
    assert.equal(dirname(files[0]), ".");
  });
});

Deno.test("sequential: relative --input, --output and --report are taken from the user's folder", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "in"));
    await Deno.copyFile(join(FIXTURES, "quad.png"), join(dir, "in", "quad.png"));
    const run = await zpixFrom(dir, "sequential", "-i", "in", "-o", "out", "--report", "r.json");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await listFiles(join(dir, "out")), ["quad.png"]);
    assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "r.json"))).processed, 1);
    assert.equal(await Deno.stat(join(ROOT, "r.json")).catch(() => null), null);
  });
});

Deno.test("sequential: a file's extension, not its content, decides the output format", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), output = join(dir, "out");
    await Deno.mkdir(input);
    await Deno.copyFile(join(FIXTURES, "quad.png"), join(input, "png_inside.jpg"));
    await Deno.copyFile(join(FIXTURES, "quad_baseline.jpg"), join(input, "jpeg_inside.PNG"));
    const run = await zpix("sequential", "-i", input, "-o", output, "--size", "8x6", "-q");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await listFiles(output), ["jpeg_inside.PNG", "png_inside.jpg"]);
    for (const name of ["jpeg_inside.PNG", "png_inside.jpg"]) {
      const image = await decodeOutput(join(output, name));
      assert.deepEqual([image.width, image.height], [8, 6]);
    }
  });
});

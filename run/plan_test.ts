/**
 * Tests for run/plan.ts on real folders: which files are taken, how
 * outputs are named, sub-folders, and every usage error found before
 * anything is written.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { parseJob } from "../cli/args.ts";
import type { Job, Task } from "../core/job.ts";
import {
  DEFAULT_PATTERN,
  matchesDefault,
  outputName,
  plainMatcher,
  planTasks,
  resolveInputFile,
} from "./plan.ts";
import { UsageError } from "../core/errors.ts";

/** Runs `fn` in a fresh temporary folder, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "zpix-plan-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Creates small files (content irrelevant to planning) at relative paths. */
async function touch(root: string, paths: string[]): Promise<void> {
  for (const path of paths) {
    await Deno.mkdir(dirname(join(root, path)), { recursive: true });
    await Deno.writeTextFile(join(root, path), "x");
  }
}

/** A job from a command line, with absolute folders. */
function job(input: string, output: string, ...args: string[]): Job {
  const parsed = parseJob("sequential", ["--input", input, "--output", output, ...args], "/");
  assert.equal(parsed.kind, "job");
  return (parsed as { kind: "job"; job: Job }).job;
}

/** The planned (input, output) pairs. */
async function plan(j: Job): Promise<[string, string][]> {
  const tasks: Task[] = await planTasks(j);
  tasks.forEach((task, i) => assert.equal(task.index, i, "indexes follow the sorted order"));
  return tasks.map((task) => [task.input, task.output]);
}

/** Asserts that planning fails with a usage error whose message matches. */
async function planError(j: Job, message: RegExp): Promise<void> {
  await assert.rejects(planTasks(j), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

const same = (...paths: string[]) => paths.map((p): [string, string] => [p, p]);

Deno.test("plan: default pattern takes every format of the table in any letter case, sorted", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in");
    await touch(input, [
      "b.JPG",
      "a.jpg",
      "c.Jpeg",
      "d.png",
      "e.PNG",
      "f.jpeg",
      "g.gif",
      "h.txt",
      "i.jpg.bak",
      "jpg",
      "sub/k.jpg",
      "l.webp",
      "m.AVIF",
      "n.heic",
      "o.HEIF",
      "p.tiff",
    ]);
    // HEIC and GIF cannot be written: `same` writes them as JPEG and PNG.
    assert.deepEqual(await plan(job(input, join(dir, "out"))), [
      ...same("a.jpg", "b.JPG", "c.Jpeg", "d.png", "e.PNG", "f.jpeg"),
      ["g.gif", "g.png"],
      ...same("l.webp", "m.AVIF"),
      ["n.heic", "n.jpg"],
      ["o.HEIF", "o.jpg"],
    ]);
  });
});

Deno.test("plan: custom patterns and the old --image_extension", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), out = join(dir, "out");
    await touch(input, ["a.jpg", "b.png", "img_1.jpg", "img_2.png", "c.gif", "sub/d.png"]);
    assert.deepEqual(await plan(job(input, out, "--pattern", "*.png")), same("b.png", "img_2.png"));
    assert.deepEqual(
      await plan(job(input, out, "--image_extension", "jpg")),
      same("a.jpg", "img_1.jpg"),
    );
    assert.deepEqual(
      await plan(job(input, out, "--pattern", "img_*")),
      same("img_1.jpg", "img_2.png"),
    );
    assert.deepEqual(await plan(job(input, out, "--pattern", "*.gif")), [["c.gif", "c.png"]]);
    // a pattern with a folder part matches the relative path
    assert.deepEqual(
      await plan(job(input, out, "--pattern", "sub/*.png", "--recursive")),
      same("sub/d.png"),
    );
    // without a folder part it matches file names at any depth
    assert.deepEqual(
      await plan(job(input, out, "--pattern", "*.png", "-r")),
      same("b.png", "img_2.png", "sub/d.png"),
    );
  });
});

Deno.test("plan: --recursive walks sub-folders and mirrors them", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), out = join(dir, "out");
    await touch(input, ["top.jpg", "a/one.png", "a/b/two.JPG", "a/b/c/three.jpeg", "z/skip.txt"]);
    assert.deepEqual(await plan(job(input, out)), same("top.jpg"));
    assert.deepEqual(
      await plan(job(input, out, "--recursive")),
      same("a/b/c/three.jpeg", "a/b/two.JPG", "a/one.png", "top.jpg"),
    );
    assert.deepEqual(await plan(job(input, out, "-r", "--format", "png")), [
      ["a/b/c/three.jpeg", "a/b/c/three.png"],
      ["a/b/two.JPG", "a/b/two.png"],
      ["a/one.png", "a/one.png"],
      ["top.jpg", "top.png"],
    ]);
  });
});

Deno.test("plan: an output folder inside the input folder is not read back", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in");
    // outputs of an earlier run, one of which would clash with --format jpeg
    await touch(input, ["a.jpg", "sub/b.png", "out/a.jpg", "out/a.png", "out/sub/b.png"]);
    const out = join(input, "out");
    assert.deepEqual(await plan(job(input, out, "-r")), same("a.jpg", "sub/b.png"));
    assert.deepEqual(await plan(job(input, out, "-r", "--format", "jpeg")), [
      ["a.jpg", "a.jpg"],
      ["sub/b.png", "sub/b.jpg"],
    ]);
    // a folder merely named like the output's prefix is still read
    await touch(input, ["outer/c.jpg"]);
    assert.deepEqual(
      await plan(job(input, out, "-r")),
      same("a.jpg", "outer/c.jpg", "sub/b.png"),
    );
    // nothing but earlier outputs: no matching image
    const only = join(dir, "only");
    await touch(only, ["out/a.jpg"]);
    await planError(job(only, join(only, "out"), "-r"), /no image in/);
    // the input folder inside the output folder is fine
    assert.deepEqual(await plan(job(join(input, "sub"), input)), same("b.png"));
  });
});

Deno.test("plan: two inputs that would write one output are refused", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in"), out = join(dir, "out");
    await touch(input, ["a.jpg", "a.png", "b.jpeg", "b.jpg"]);
    await planError(
      job(input, out, "--format", "jpeg"),
      /a\.jpg and a\.png would both write a\.jpg/,
    );
    await planError(
      job(input, out, "--format", "png"),
      /would both write a\.png: use --format same/,
    );
    assert.deepEqual(await plan(job(input, out)), same("a.jpg", "a.png", "b.jpeg", "b.jpg"));
    // b.jpeg and b.jpg both become b.jpg
    await Deno.remove(join(input, "a.png"));
    await planError(
      job(input, out, "--format", "jpeg"),
      /b\.jpeg and b\.jpg would both write b\.jpg/,
    );
  });
});

Deno.test("plan: missing folders, files instead of folders, nothing to do", async () => {
  await inTempDir(async (dir) => {
    const input = join(dir, "in");
    await touch(input, ["a.jpg", "notes.txt", "sub/b.jpg"]);
    await planError(
      job(join(dir, "missing"), join(dir, "out")),
      /--input .*missing is not a folder/,
    );
    await planError(
      job(join(input, "a.jpg"), join(dir, "out")),
      /--input .*a\.jpg is not a folder/,
    );
    await planError(
      job(input, join(input, "notes.txt")),
      /--output .*notes\.txt exists and is not a folder/,
    );
    await planError(
      job(input, join(dir, "out"), "--pattern", "*.gif"),
      /no image in .* matches --pattern "\*\.gif" \(add --recursive for sub-folders\)/,
    );
    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    await planError(job(empty, join(dir, "out")), /no image in .*empty matches .*any case/);
    await touch(empty, ["deep/x.png"]);
    await planError(job(empty, join(dir, "out")), /add --recursive/);
    assert.deepEqual(await plan(job(empty, join(dir, "out"), "-r")), same("deep/x.png"));
    // planning writes nothing
    assert.equal(await Deno.stat(join(dir, "out")).catch(() => null), null);
  });
});

Deno.test("plan: outputName follows --format", () => {
  assert.equal(outputName("a/b.JPG", "same"), "a/b.JPG");
  assert.equal(outputName("a/b.JPG", "png"), "a/b.png");
  assert.equal(outputName("a/b.png", "jpeg"), "a/b.jpg");
  assert.equal(outputName("x.tar.jpeg", "png"), "x.tar.png");
  assert.equal(outputName("noext", "jpeg"), "noext.jpg");
  assert.equal(outputName("dir.v2/photo", "png"), "dir.v2/photo.png");
  assert.equal(outputName("a/b.jpg", "webp"), "a/b.webp");
  assert.equal(outputName("a/b.png", "avif"), "a/b.avif");
  assert.equal(outputName("a/b.HEIC", "same"), "a/b.jpg");
  assert.equal(outputName("a/b.gif", "same"), "a/b.png");
  assert.equal(outputName("a/b.webp", "same"), "a/b.webp");
});

Deno.test("plan: the default pattern's plain test agrees with picomatch", async () => {
  const picomatch = (await import("picomatch")).default;
  const reference = picomatch(DEFAULT_PATTERN, { nocase: true, basename: true });
  for (const name of PATTERN_NAMES) {
    assert.equal(matchesDefault(name), reference(name), name);
  }
});

/** Names the plain pattern tests are checked on against picomatch. */
const PATTERN_NAMES = [
  "a.jpg",
  "B.JPG",
  "c.Jpeg",
  "d.png",
  "e.PNG",
  "f.jpeg",
  "g.gif",
  "h.txt",
  "i.jpg.bak",
  "jpg",
  ".jpg",
  ".hidden.jpg",
  "sub/k.jpg",
  "sub/.k.jpg",
  ".dir/x.png",
  "a b.jpg",
  "x.jpeg.png",
  "sub/deeper/y.JPEG",
  "noext",
  "z.jp",
  "z.jpgx",
  "weird..jpg",
  "l.webp",
  "m.AVIF",
  "n.heic",
  "o.Heif",
  "sub/p.gif",
  "q.tiff",
  "r.webp.txt",
  "-.png",
];

Deno.test("plan: the plain test of --pattern * and *.EXT agrees with picomatch", async () => {
  const picomatch = (await import("picomatch")).default;
  const names = [
    ...PATTERN_NAMES,
    "a.JPG",
    "x.jpg/y",
    "sub/.jpg",
    "a-b.tar-gz",
    "c.tar-gz",
    "*.jpg",
    "a.jpg.JPG",
  ];
  for (const pattern of ["*", "*.jpg", "*.JPG", "*.png", "*.tar-gz", "*.a_1"]) {
    const reference = picomatch(pattern, { basename: true });
    const plain = plainMatcher(pattern);
    assert.ok(plain, pattern);
    for (const name of names) assert.equal(plain(name), reference(name), `${pattern} ${name}`);
  }
  for (
    const pattern of ["*.{jpg,png}", "img_*", "sub/*.png", "**", "*.j?g", "*.", "a*", "*.[jp]ng"]
  ) {
    assert.equal(plainMatcher(pattern), null, pattern);
  }
});

Deno.test("plan: outputName fills --name's template, in the input's folder", () => {
  const steps = [
    { op: "resize", width: 640, height: 480, fit: "fill" },
    { op: "to_gray" },
    { op: "resize", width: 64, height: 32, fit: "cover" },
  ] as const;
  assert.equal(outputName("a/b.JPG", "same", "{name}_thumb.{ext}"), "a/b_thumb.JPG");
  assert.equal(outputName("b.jpeg", "png", "{name}.{ext}"), "b.png");
  assert.equal(outputName("x/y/c.png", "jpeg", "{name}-{w}x{h}.{ext}", steps), "x/y/c-64x32.jpg");
  assert.equal(outputName("noext", "png", "{name}{name}.{ext}"), "noextnoext.png");
});

Deno.test("plan: one file as --input is the only task, whatever --pattern says", async () => {
  await inTempDir(async (root) => {
    await touch(root, ["in/a.jpg", "in/b.jpg"]);
    const single = await resolveInputFile(
      job(join(root, "in", "a.jpg"), join(root, "out"), "--pattern", "*.png"),
    );
    assert.deepEqual([single.input, single.only], [join(root, "in"), "a.jpg"]);
    assert.deepEqual(await plan(single), [["a.jpg", "a.jpg"]]);
    const folder = job(join(root, "in"), join(root, "out"));
    assert.equal(await resolveInputFile(folder), folder, "a folder: the job as it was");
  });
});

Deno.test("plan: one file as --input never writes onto itself; --output - has no folder to check", async () => {
  await inTempDir(async (root) => {
    await touch(root, ["in/a.jpg"]);
    await Deno.symlink(join(root, "in"), join(root, "link"));
    const file = join(root, "in", "a.jpg");
    for (const output of [join(root, "in"), join(root, "link")]) {
      await planError(
        await resolveInputFile(job(file, output)),
        /once symlinks are followed .*: zpix never overwrites its inputs/,
      );
    }
    assert.deepEqual(await plan(await resolveInputFile(job(file, "-"))), [["a.jpg", "a.jpg"]]);
    assert.deepEqual(
      await plan(await resolveInputFile(job(file, join(root, "link", "small")))),
      [["a.jpg", "a.jpg"]],
    );
  });
});

/**
 * Bad input never crashes a run: corrupt, truncated, empty and non-image
 * files, a dangling symlink, a FIFO, an output a folder is in the way of, a
 * file removed mid-run, images over --max-pixels and a full disk each fail
 * (or warn) in the report with one clear message while the other images
 * are done; an output folder that cannot be written stops the run with one
 * line and exit code 3. Real files, real zpix processes.
 *
 * Tests run as root, so `chmod 000` stops nothing: unreadable inputs are a
 * dangling symlink (the file is gone), a symlink to a FIFO (a read would
 * block for good) and a file deleted after planning; the unwritable output
 * folder is a read-only tmpfs mount, the full disk a 200 KiB tmpfs (both
 * ignored, with the reason in their names, where `mount` is not permitted).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../ops/codec.ts";
import {
  noProcessesLeft,
  readReport,
  startRun,
  temporaries,
  withRunDir,
  writeImages,
} from "./reliability_helpers.ts";

/** Each bad input and what its report entry must say (a failure, or a warning for truncated.jpg). */
const EXPECTED: Record<string, RegExp> = {
  "blocked.jpg": /^cannot write .*blocked\.jpg: a folder of that name is in the way$/,
  "corrupt.jpg": /^truncated or corrupt JPEG data/,
  "dangling.jpg": /^input file not found \(was it moved or deleted\?\)$/,
  "empty.jpg": /^empty file$/,
  "fifo.jpg": /^not a regular file \(a FIFO, socket or device\): not read$/,
  "text.jpg": /^not a JPEG, PNG, WebP, AVIF, HEIC or GIF file \(looks like text\)$/,
  "truncated.png": /^truncated PNG data$/,
};

/** Writes the good and the bad inputs into `dir/in`, and an obstacle into `dir/out`. */
async function writeBadInputs(dir: string): Promise<void> {
  const input = join(dir, "in");
  await writeImages(input, ["good1.jpg", "good2.png", "whole.jpg", "whole.png", "blocked.jpg"]);
  const cut = async (from: string, to: string, fraction: number) => {
    const bytes = await Deno.readFile(join(input, from));
    await Deno.writeFile(join(input, to), bytes.slice(0, Math.floor(bytes.length * fraction)));
    await Deno.remove(join(input, from));
  };
  await cut("whole.jpg", "truncated.jpg", 0.6);
  await cut("whole.png", "truncated.png", 0.5);
  // A JPEG start marker, then noise.
  const noise = Array.from({ length: 500 }, (_, i) => (i * 7919) % 256);
  await Deno.writeFile(join(input, "corrupt.jpg"), new Uint8Array([0xff, 0xd8, 0xff, ...noise]));
  await Deno.writeFile(join(input, "empty.jpg"), new Uint8Array());
  await Deno.copyFile(
    new URL("./fixtures/not_an_image.jpg", import.meta.url),
    join(input, "text.jpg"),
  );
  await Deno.symlink(join(input, "gone", "nothing.jpg"), join(input, "dangling.jpg"));
  await Deno.mkdir(join(input, "pipes"));
  const mkfifo = await new Deno.Command("mkfifo", { args: [join(input, "pipes", "fifo")] })
    .output();
  assert.ok(mkfifo.success, "mkfifo failed");
  await Deno.symlink(join(input, "pipes", "fifo"), join(input, "fifo.jpg"));
  // blocked.jpg's output name is taken by a folder.
  await Deno.mkdir(join(dir, "out", "blocked.jpg", "keep"), { recursive: true });
}

for (const mode of ["sequential", "parallel"] as const) {
  Deno.test(`${mode}: bad inputs are failed (or warned) one by one in the report; the good ones are done`, async () => {
    await withRunDir(async (dir) => {
      await writeBadInputs(dir);
      const run = startRun([
        mode,
        ...["--input", join(dir, "in"), "--output", join(dir, "out"), "--size", "32", "32"],
        ...["--report", join(dir, "report.json")],
        // One attempt, bounded: a FIFO read would hang (until --task-timeout) and be retried.
        ...(mode === "parallel" ? ["-w", "2", "--task-timeout", "20", "--max-attempts", "1"] : []),
      ]);
      const { code, stdout } = await run.done;
      assert.equal(code, 1);
      assert.match(stdout, /processed 3\/10/);
      const report = await readReport(join(dir, "report.json"));
      assert.deepEqual(report.failed.map((f) => f.path).sort(), Object.keys(EXPECTED).sort());
      for (const { path, error } of report.failed) assert.match(error, EXPECTED[path], path);
      // A JPEG cut short decodes partly: written, but flagged.
      assert.deepEqual(report.warnings, [{
        path: "truncated.jpg",
        warning: "JPEG data ends early (truncated?)",
      }]);
      assert.equal(report.processed, 3);
      for (const name of ["good1.jpg", "good2.png", "truncated.jpg"]) {
        const decoded = await decodeImage(await Deno.readFile(join(dir, "out", name)));
        assert.equal(decoded.image.width, 32);
      }
      assert.deepEqual(await temporaries(join(dir, "out")), []);
      await noProcessesLeft(join(dir, "in"));
    });
  });
}

Deno.test("a file deleted after planning fails alone", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, ["aa.jpg", "bb.jpg", "zz.jpg"]);
    // The only worker stalls on aa.jpg until --task-timeout, so zz.jpg is surely not read
    // before it is deleted.
    const run = startRun([
      "parallel",
      ...["--input", input, "--output", join(dir, "out"), "--size", "32", "32", "-w", "1"],
      ...["--task-timeout", "3", "--report", join(dir, "report.json")],
    ], { faults: "stall@1:aa.jpg" });
    await run.waitFor(/parallel: 3 image/);
    await Deno.remove(join(input, "zz.jpg"));
    const { code } = await run.done;
    assert.equal(code, 1);
    const report = await readReport(join(dir, "report.json"));
    assert.equal(report.processed, 2);
    assert.deepEqual(report.failed, [{
      path: "zz.jpg",
      error: "input file not found (was it moved or deleted?)",
    }]);
  });
});

Deno.test("images over --max-pixels are refused before decoding, with the numbers", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, ["big.jpg"], 640, 480);
    await writeImages(input, ["small.png"], 320, 240);
    const run = startRun([
      "parallel",
      ...["--input", input, "--output", join(dir, "out"), "--size", "32", "32", "-w", "1"],
      ...["--max-pixels", "200000", "--report", join(dir, "report.json")],
    ]);
    assert.equal((await run.done).code, 1);
    const report = await readReport(join(dir, "report.json"));
    assert.equal(report.processed, 1);
    assert.deepEqual(report.failed, [{
      path: "big.jpg",
      error: "image is 640x480 = 0.3 megapixels, over the limit of 0.2 megapixels (--max-pixels)",
    }]);
  });
});

/** Mounts a tmpfs at `dir` (root only); throws where that fails. */
async function mountTmpfs(dir: string, options: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", options, "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`cannot mount a tmpfs: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Why a tmpfs cannot be mounted here (not root, no `mount`), or null where it can. */
const cannotMount: string | null = await (async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-mount-probe-" });
  try {
    await mountTmpfs(dir, "size=4k");
    await unmount(dir);
    return null;
  } catch (error) {
    return (error as Error).message.split("\n")[0];
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
})();

/** A test's name, with the reason it is ignored where no tmpfs can be mounted. */
const mountName = (name: string) => cannotMount ? `${name} (ignored: ${cannotMount})` : name;

/** Options of the tests that need a tmpfs mount. */
const MOUNT = { ignore: cannotMount !== null };

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
}

/** The arguments of a one-worker parallel run from `input` to `output`. */
const oneWorkerRun = (input: string, output: string) => [
  "parallel",
  ...["--input", input, "--output", output, "--size", "32", "32", "-w", "1", "-q"],
];

Deno.test("an output folder under a file stops the run: one clear line, exit 2", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, ["a.jpg"]);
    const args = (output: string) => oneWorkerRun(input, output);
    // Under a regular file: no folder can be made there.
    await Deno.writeFile(join(dir, "file"), new Uint8Array(1));
    const under = await startRun(args(join(dir, "file", "out"))).done;
    assert.equal(under.code, 2, under.stderr);
    assert.match(
      under.stderr,
      /^zpix: error: --output .*file\/out: part of that path is a file, not a folder\nRun "zpix parallel --help" for usage\.$/,
    );
  });
});

const READ_ONLY = mountName("a read-only output folder stops the run: one clear line, exit 3");

Deno.test(READ_ONLY, MOUNT, async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, ["a.jpg"]);
    const readOnly = join(dir, "ro");
    await mountTmpfs(readOnly, "ro,size=64k");
    try {
      const ro = await startRun(oneWorkerRun(input, readOnly)).done;
      assert.equal(ro.code, 3, ro.stderr);
      assert.match(ro.stderr, /^zpix: error: cannot write to --output .*ro: .+$/);
    } finally {
      await unmount(readOnly);
    }
  });
});

const FULL_DISK = mountName(
  "a full disk fails the images that do not fit, leaves no temporary file, and the run ends",
);

Deno.test(FULL_DISK, MOUNT, async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    const names = ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"];
    await writeImages(input, names);
    const out = join(dir, "out");
    await mountTmpfs(out, "size=200k");
    try {
      // Noisy 256x256 PNGs: about 100-150 KB each, so one or two fit.
      const run = startRun([
        "parallel",
        ...["--input", input, "--output", out, "--size", "256", "256", "--format", "png"],
        ...["-w", "2", "--report", join(dir, "report.json")],
      ]);
      const { code } = await run.done;
      assert.equal(code, 1);
      const report = await readReport(join(dir, "report.json"));
      assert.ok(report.failed.length >= 1, "nothing failed: the disk was not full");
      assert.equal(report.processed + report.failed.length, names.length);
      for (const { path, error } of report.failed) {
        assert.match(error, /^cannot write .*: disk full$/, path);
      }
      assert.deepEqual(await temporaries(out), []);
      for (const name of await Array.fromAsync(Deno.readDir(out))) {
        const decoded = await decodeImage(await Deno.readFile(join(out, name.name)));
        assert.deepEqual(decoded.warnings, [], `${name.name} is partial`);
      }
      await noProcessesLeft(input);
    } finally {
      await unmount(out);
    }
  });
});

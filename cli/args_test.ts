/**
 * Tests for cli/args.ts: every flag and its aliases (the old tool's
 * spellings included), the defaults, and every usage error.
 */

import assert from "node:assert/strict";
import { COMMANDS, describePipeline, parseJob, parseWorker } from "./args.ts";
import type { Job, WorkerOptions } from "../core/job.ts";
import { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS } from "../ops/codec.ts";
import { UsageError } from "../core/errors.ts";
import {
  DEFAULT_BATCH,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_TASK_TIMEOUT,
  defaultWorkers,
  LOCAL_PREFETCH,
  normaliseArgs,
  normalisePattern,
  WORKER_BATCH,
} from "./options.ts";

const CWD = "/home/user/work";
const IO = ["--input", "in", "--output", "out"];

/** Parses a job command line that must succeed. */
function job(mode: Job["mode"], args: string[]): Job {
  const parsed = parseJob(mode, args, CWD);
  assert.equal(parsed.kind, "job", `expected a job from ${args.join(" ")}`);
  return (parsed as { kind: "job"; job: Job }).job;
}

/** Asserts that a command line is a usage error whose message matches. */
function usageError(mode: Job["mode"], args: string[], message: RegExp): void {
  assert.throws(() => parseJob(mode, args, CWD), (error: unknown) => {
    assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
    assert.match(error.message, message, args.join(" "));
    assert.doesNotMatch(error.message, /\n/, "one line");
    return true;
  });
}

Deno.test("cli: subcommands and their aliases", () => {
  assert.equal(COMMANDS["sequential"], "sequential");
  assert.equal(COMMANDS["sequential-processing"], "sequential");
  assert.equal(COMMANDS["parallel"], "parallel");
  assert.equal(COMMANDS["parallel-processing"], "parallel");
});

Deno.test("cli: defaults", () => {
  const j = job("sequential", IO);
  assert.equal(j.mode, "sequential");
  assert.equal(j.input, "/home/user/work/in");
  assert.equal(j.output, "/home/user/work/out");
  assert.equal(j.pattern, null);
  assert.equal(j.recursive, false);
  assert.deepEqual(j.pipeline, {
    steps: [{ op: "resize", width: 512, height: 512, fit: "fill" }],
    format: "same",
    quality: DEFAULT_JPEG_QUALITY,
    encoder: "fast",
    maxPixels: DEFAULT_MAX_PIXELS,
  });
  assert.equal(j.workers, 1);
  assert.equal(j.bind, null);
  assert.equal(j.token, null);
  assert.deepEqual(j.reports, []);
  assert.equal(j.quiet, false);
  assert.equal(j.verbose, false);
  assert.equal(j.logFormat, "text");
  assert.equal(j.skipExisting, false);
  assert.equal(j.taskTimeout, DEFAULT_TASK_TIMEOUT);
  assert.equal(j.maxTasksPerWorker, 0);
  assert.equal(j.maxAttempts, DEFAULT_MAX_ATTEMPTS);
  // the job is plain data: it survives JSON (it travels to workers)
  assert.deepEqual(JSON.parse(JSON.stringify(j)), j);
  assert.equal(job("parallel", IO).workers, defaultWorkers());
  assert.ok(defaultWorkers() >= 1);
});

Deno.test("cli: --input/--output, short flags, old names, = forms, absolute paths", () => {
  const forms = [
    ["--input", "in", "--output", "out"],
    ["-i", "in", "-o", "out"],
    ["--input=in", "--output=out"],
    ["--path2initial_images", "in", "--path2resized_images", "out"],
    ["--path2initial_images=in", "--path2resized_images=out"],
    ["--output", "out", "--input", "./sub/../in"],
  ];
  for (const args of forms) {
    const j = job("sequential", args);
    assert.equal(j.input, "/home/user/work/in", args.join(" "));
    assert.equal(j.output, "/home/user/work/out", args.join(" "));
  }
  const abs = job("sequential", ["-i", "/data/photos", "-o", "../small"]);
  assert.equal(abs.input, "/data/photos");
  assert.equal(abs.output, "/home/user/small");
});

Deno.test("cli: --pattern and the old --image_extension", () => {
  const pattern = (...args: string[]) => job("sequential", [...IO, ...args]).pattern;
  assert.equal(pattern("--pattern", "*.png"), "*.png");
  assert.equal(pattern("--pattern", "**/*.JPG"), "**/*.JPG");
  assert.equal(pattern("--pattern", "img_*.{jpg,png}"), "img_*.{jpg,png}");
  assert.equal(pattern("--image_extension", "jpg"), "*.jpg");
  assert.equal(pattern("--image_extension", ".jpg"), "*.jpg");
  assert.equal(pattern("--image_extension=png"), "*.png");
  assert.equal(pattern("--pattern", "jpeg"), "*.jpeg");
  assert.equal(normalisePattern(" .PNG "), "*.PNG");
  assert.equal(normalisePattern("a/*.jpg"), "a/*.jpg");
});

Deno.test("cli: --recursive, --quiet, --verbose, --skip-existing, --log-format", () => {
  assert.equal(job("sequential", [...IO, "--recursive"]).recursive, true);
  assert.equal(job("sequential", [...IO, "-r"]).recursive, true);
  assert.equal(job("sequential", [...IO, "--quiet"]).quiet, true);
  assert.equal(job("sequential", [...IO, "-q"]).quiet, true);
  assert.equal(job("sequential", [...IO, "-v"]).verbose, true);
  assert.equal(job("sequential", [...IO, "--verbose"]).verbose, true);
  assert.equal(job("sequential", [...IO, "--skip-existing"]).skipExisting, true);
  assert.equal(job("sequential", [...IO, "--log-format", "json"]).logFormat, "json");
  assert.equal(job("sequential", [...IO, "--log-format=text"]).logFormat, "text");
});

Deno.test("cli: --size in every spelling is a first resize step", () => {
  const resize512 = { op: "resize", width: 512, height: 384, fit: "fill" };
  for (
    const size of [["--size", "512", "384"], ["--size", "512x384"], ["--size=512x384"], [
      "--size",
      "512X384",
    ]]
  ) {
    assert.deepEqual(job("sequential", [...IO, ...size]).pipeline.steps, [resize512], size.join());
  }
  // --size comes first, whatever the order on the command line
  const j = job("sequential", ["--op", "to_gray", ...IO, "--size", "512", "384", "--op", "flip=h"]);
  assert.deepEqual(j.pipeline.steps, [resize512, { op: "to_gray" }, { op: "flip", axis: "h" }]);
  assert.equal(describePipeline(j), "resize=512x384 → to_gray → flip=h");
  assert.deepEqual(normaliseArgs(["--size", "1", "2", "-i", "x"]), ["--size", "1x2", "-i", "x"]);
});

Deno.test("cli: --op steps keep their order; --op without resize keeps the size", () => {
  const steps = job("sequential", [
    ...IO,
    "--op",
    "threshold=128",
    "--op",
    "resize=100x50:cover",
    "--op=gray",
    "--op",
    "flip=hv",
  ]).pipeline.steps;
  assert.deepEqual(steps, [
    { op: "threshold", value: 128 },
    { op: "resize", width: 100, height: 50, fit: "cover" },
    { op: "to_gray" },
    { op: "flip", axis: "hv" },
  ]);
  assert.deepEqual(job("sequential", [...IO, "--op", "flip=v"]).pipeline.steps, [
    { op: "flip", axis: "v" },
  ]);
});

Deno.test("cli: --format, --quality, --encoder, --max-pixels, --report", () => {
  const p = (...args: string[]) => job("sequential", [...IO, ...args]).pipeline;
  assert.equal(p("--format", "jpeg").format, "jpeg");
  assert.equal(p("--format", "png").format, "png");
  assert.equal(p("--format", "same").format, "same");
  assert.equal(p("--format", "webp").format, "webp");
  assert.equal(p("--format", "avif").format, "avif");
  assert.equal(p("--keep-icc").keepIcc, true);
  assert.equal(p().keepIcc, undefined);
  assert.equal(p("--keep-metadata").keepMetadata, true);
  assert.equal(p().keepMetadata, undefined);
  assert.equal(p("--quality", "1").quality, 1);
  assert.equal(p("--quality", "100").quality, 100);
  assert.equal(p("--quality=90").quality, 90);
  assert.equal(p("--encoder", "mozjpeg").encoder, "mozjpeg");
  assert.equal(p("--encoder", "fast").encoder, "fast");
  assert.equal(p("--max-pixels", "1000", "--size", "16x16").maxPixels, 1000);
  const reports = job("sequential", [...IO, "--report", "r.json", "--report", "run.HTML"]).reports;
  assert.deepEqual(reports, ["/home/user/work/r.json", "/home/user/work/run.HTML"]);
  assert.deepEqual(job("sequential", [...IO, "--report", "/tmp/a.json"]).reports, ["/tmp/a.json"]);
});

Deno.test("cli: parallel's worker flags and the old --nb_workers", () => {
  const j = (...args: string[]) => job("parallel", [...IO, ...args]);
  assert.equal(j("--workers", "4").workers, 4);
  assert.equal(j("-w", "2").workers, 2);
  assert.equal(j("--nb_workers", "8").workers, 8);
  assert.equal(j("--nb_workers=3").workers, 3);
  assert.equal(j("--task-timeout", "2.5").taskTimeout, 2.5);
  assert.equal(j("--max-tasks-per-worker", "10").maxTasksPerWorker, 10);
  assert.equal(j("--max-attempts", "1").maxAttempts, 1);
  // Batches by default; --prefetch alone means one task at a time, as before batches.
  assert.deepEqual([j().batch, j().prefetch], [DEFAULT_BATCH, LOCAL_PREFETCH]);
  assert.deepEqual([j("--prefetch", "0").batch, j("--prefetch", "0").prefetch], [1, 0]);
  assert.equal(j("--batch", "4", "--prefetch", "2").batch, 4);
  assert.equal(j("--batch", "1").batch, 1);
  assert.equal(job("serve", [...IO, "--workers", "0"]).batch, DEFAULT_BATCH);
  // the old tool's full command line
  const old = job("parallel", [
    "--path2initial_images",
    "photos",
    "--path2resized_images",
    "small",
    "--image_extension",
    "jpg",
    "--size",
    "512",
    "512",
    "--nb_workers",
    "6",
  ]);
  assert.equal(old.input, "/home/user/work/photos");
  assert.equal(old.output, "/home/user/work/small");
  assert.equal(old.pattern, "*.jpg");
  assert.equal(old.workers, 6);
  assert.deepEqual(old.pipeline.steps, [{ op: "resize", width: 512, height: 512, fit: "fill" }]);
});

Deno.test("cli: --help and -h win over everything else", () => {
  assert.deepEqual(parseJob("sequential", ["--help"], CWD), { kind: "help" });
  assert.deepEqual(parseJob("parallel", ["-h"], CWD), { kind: "help" });
  assert.deepEqual(parseJob("sequential", [...IO, "--op", "bogus", "--help"], CWD), {
    kind: "help",
  });
});

Deno.test("cli: missing or identical folders", () => {
  usageError("sequential", [], /missing --input/);
  usageError("sequential", ["--output", "out"], /missing --input/);
  usageError("sequential", ["--input", "in"], /missing --output/);
  usageError("sequential", ["--input", "", "--output", "out"], /missing --input/);
  usageError("sequential", ["-i", "in", "-o", "in"], /--output must differ from --input/);
  usageError("sequential", ["-i", "in", "-o", "./in/"], /--output must differ from --input/);
  usageError("sequential", ["-i", "/home/user/work/in", "-o", "in"], /must differ/);
});

Deno.test("cli: bad --op and --size", () => {
  usageError("sequential", [...IO, "--op", "blur=3"], /--op: unknown operation "blur"/);
  usageError("sequential", [...IO, "--op", "resize=0x5"], /--op: width 0/);
  usageError("sequential", [...IO, "--op", "resize=5x5:stretch"], /--op: unknown fit/);
  usageError("sequential", [...IO, "--op", "threshold=300"], /--op: threshold needs/);
  usageError("sequential", [...IO, "--op", "flip=x"], /--op: flip needs/);
  usageError("sequential", [...IO, "--size", "512", "--op", "bogus"], /^--size:/);
  usageError("sequential", [...IO, "--size", "512x512", "--op", "bogus"], /^--op:/);
  usageError("sequential", [...IO, "--op"], /--op/);
  usageError("sequential", [...IO, "--size", "512"], /--size: size "512" is not WIDTHxHEIGHT/);
  usageError("sequential", [...IO, "--size", "0x10"], /--size: width 0/);
  usageError("sequential", [...IO, "--size", "big"], /--size/);
  // "--size 512 abc": not two numbers, so "abc" is left as a stray argument
  usageError("sequential", [...IO, "--size", "512", "abc"], /--size|unexpected argument/);
});

Deno.test("cli: bad --quality, --format, --encoder, --max-pixels, --log-format", () => {
  for (const q of ["0", "101", "abc", "7.5", ""]) {
    usageError("sequential", [...IO, "--quality", q], /--quality must be an integer from 1 to 100/);
  }
  usageError(
    "sequential",
    [...IO, "--format", "gif"],
    /--format must be one of same, jpeg, png, webp, avif/,
  );
  usageError("sequential", [...IO, "--format", "JPG"], /--format/);
  usageError("sequential", [...IO, "--encoder", "turbo"], /--encoder must be one of fast, mozjpeg/);
  usageError("sequential", [...IO, "--max-pixels", "0"], /--max-pixels/);
  usageError("sequential", [...IO, "--log-format", "xml"], /--log-format/);
  usageError("sequential", [...IO, "-q", "-v"], /--quiet and --verbose/);
});

Deno.test("cli: bad --workers and other parallel values", () => {
  for (const w of ["0", "abc", "1.5", "257", ""]) {
    usageError("parallel", [...IO, "--workers", w], /--workers must be an integer from 1 to 256/);
  }
  usageError("parallel", [...IO, "--nb_workers", "0"], /--workers/);
  usageError("parallel", [...IO, "--task-timeout", "0"], /--task-timeout/);
  usageError("parallel", [...IO, "--task-timeout", "soon"], /--task-timeout/);
  usageError("parallel", [...IO, "--max-attempts", "0"], /--max-attempts/);
  for (const b of ["0", "65", "x"]) usageError("parallel", [...IO, "--batch", b], /--batch/);
  usageError("sequential", [...IO, "--batch", "2"], /--batch/);
  usageError("parallel", [...IO, "--max-tasks-per-worker", "-1"], /--max-tasks-per-worker/);
});

Deno.test("cli: unknown flags, positionals, options of other modes, --report extension", () => {
  usageError("sequential", [...IO, "--bogus"], /unknown option '--bogus'/);
  usageError("sequential", [...IO, "-x"], /unknown option '-x'/);
  usageError("sequential", [...IO, "extra"], /unexpected argument "extra"/);
  usageError("sequential", ["photos", ...IO], /unexpected argument "photos"/);
  for (
    const flag of [
      ["--workers", "2"],
      ["--nb_workers", "2"],
      ["-w", "2"],
      ["--task-timeout", "5"],
      ["--max-tasks-per-worker", "5"],
      ["--max-attempts", "2"],
    ]
  ) {
    usageError("sequential", [...IO, ...flag], /is not an option of sequential/);
  }
  usageError("sequential", [...IO, "--bind", "tcp://127.0.0.1:5555"], /not an option/);
  usageError("parallel", [...IO, "--token", "x"], /--token is not an option of parallel/);
  // node:util's own messages, rewritten to one line naming the flag
  usageError("sequential", [...IO, "--op"], /^--op needs a value$/);
  usageError("parallel", [...IO, "-w"], /^--workers needs a value$/);
  usageError("sequential", [...IO, "--quality", "-3"], /--quality needs a value.*--quality=/);
  usageError("parallel", [...IO, "--workers", "-1"], /--workers needs a value.*--workers=/);
  usageError("sequential", [...IO, "--quality=-3"], /--quality must be an integer/);
  usageError("sequential", [...IO, "--recursive=yes"], /^--recursive takes no value$/);
  usageError("sequential", [...IO, "--report", "run.txt"], /must end in \.json or \.html/);
  usageError("sequential", [...IO, "--report", "run"], /must end in \.json or \.html/);
  usageError("sequential", [...IO, "--report", "ok.json", "--report", "x.csv"], /x\.csv/);
});

Deno.test("cli: --kernel sets every resize step without its own; linear (the default) sets none", () => {
  assert.deepEqual(
    job("parallel", [
      ...IO,
      "--size",
      "64x64",
      "--op",
      "resize=8x8:nearest",
      "--kernel",
      "lanczos3",
    ])
      .pipeline.steps,
    [
      { op: "resize", width: 64, height: 64, fit: "fill", kernel: "lanczos3" },
      { op: "resize", width: 8, height: 8, fit: "fill", kernel: "nearest" },
    ],
  );
  assert.deepEqual(job("sequential", [...IO, "--kernel", "linear"]).pipeline.steps, [
    { op: "resize", width: 512, height: 512, fit: "fill" },
  ]);
  for (const bad of ["lanczos", "LANCZOS3", "", "bicubic"]) {
    usageError(
      "sequential",
      [...IO, "--kernel", bad],
      /--kernel must be one of nearest, linear, cubic, mitchell, lanczos3/,
    );
  }
});

Deno.test("cli: serve --payload-window: a count of images or a size, 64 MiB by default", () => {
  const serve = (...w: string[]) =>
    job("serve", [...IO, ...(w.length ? ["--payload-window", ...w] : [])]);
  const MiB = 1024 * 1024;
  assert.deepEqual(pick(serve()), [0, 64 * MiB]);
  assert.deepEqual(pick(serve("16")), [16, 0]);
  assert.deepEqual(pick(serve("256MiB")), [0, 256 * MiB]);
  assert.deepEqual(pick(serve("64M")), [0, 64 * MiB]);
  assert.deepEqual(pick(serve("1GiB")), [0, 1024 * MiB]);
  assert.deepEqual(pick(serve("512 KB")), [0, 512 * 1024]);
  assert.deepEqual(pick(serve("1.5m")), [0, 1.5 * MiB]);
  assert.deepEqual(pick(serve("100B")), [0, 100]);
  for (const bad of ["0", "0B", "-1", "1.5", "x", "16 images", "65GiB", "100001", "1TiB", ""]) {
    usageError("serve", [...IO, "--payload-window", bad], /--payload-window/);
  }
});

function pick(j: { payloadWindow: number; payloadWindowBytes: number }): number[] {
  return [j.payloadWindow, j.payloadWindowBytes];
}

Deno.test("cli: worker --batch: 8 by default, 1..64", () => {
  const connect = ["--connect", "tcp://192.0.2.10:5555"];
  const worker = (...args: string[]) => parseWorker([...connect, ...args]) as WorkerOptions;
  assert.equal(worker().batch, WORKER_BATCH);
  assert.equal(worker("--batch", "16").batch, 16);
  for (const b of ["0", "65", "x"]) {
    assert.throws(() => parseWorker([...connect, "--batch", b]), UsageError, `--batch ${b}`);
  }
});

Deno.test("cli: worker --shared-fs is repeatable, made absolute and normalised; serve --shared-fs is a switch", () => {
  const options = parseWorker([
    "--connect",
    "tcp://h:1",
    "--shared-fs",
    "/mnt/a/../b/",
    "--shared-fs=/mnt/c",
    "--shared-fs",
    "/mnt/c",
  ]);
  assert.ok(options !== "help");
  assert.deepEqual(options.sharedFs, ["/mnt/b", "/mnt/c"]);
  const none = parseWorker(["--connect", "tcp://h:1"]);
  assert.ok(none !== "help");
  assert.deepEqual(none.sharedFs, []);
  const many = Array.from({ length: 17 }, (_, i) => `--shared-fs=/m${i}`);
  assert.throws(() => parseWorker(["--connect", "tcp://h:1", ...many]), /at most 16 folders/);
  const serve = parseJob("serve", ["-i", "/a", "-o", "/b", "--shared-fs"]);
  assert.ok(serve.kind === "job" && serve.job.sharedFs === true);
  assert.throws(() => parseJob("parallel", ["-i", "/a", "-o", "/b", "--shared-fs"]), UsageError);
  assert.throws(
    () => parseJob("serve", ["-i", "/a", "-o", "/b", "--shared-fs=x"]),
    /takes no value/,
  );
});

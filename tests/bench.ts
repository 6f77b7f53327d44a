/**
 * `deno task bench`: sequential vs parallel zpix on one folder, each run as
 * its own `deno run main.ts` process and timed from outside (start-up
 * included), the same with remote workers (`serve` on 127.0.0.1 and
 * `zpix worker` processes), and, where `../shared/bench/reference.py` and Debian's
 * python3-zmq, -pil and -opencv are there, the old Python program on the
 * same folder in the same run.
 *
 *   deno task bench [--input DIR] [--workers N] [--count N] [--repeat R] [-- zpix flags]
 *   deno task bench --scale [scale_bench.ts flags]   (the broker with many fake workers)
 *   deno task bench --long [long_bench.ts flags]     (8,091 photos against the old program)
 *   deno task bench --large [large_bench.ts flags]   (8-24 MP photos against sharp-cli, vipsthumbnail)
 *   deno task bench --shared-fs [shared_fs_bench.ts flags]   (serve --shared-fs against bytes, parallel)
 *
 * Without --input it writes `--count` (120) synthetic JPEGs of photo sizes
 * (~500x375) to a temporary folder. The pipeline is `--size 512 512`, as the
 * reference's, unless zpix flags follow `--`. Each round ends with start-up
 * rows: zpix and the reference on a folder of one image per worker (the
 * input's first JPEGs), sequential and parallel (the reference: sequential
 * only), the min of 5 interleaved runs each.
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join, resolve } from "node:path";
import { encodeImage } from "../ops/codec.ts";
import { SAMPLE_SIZES, sampleImage } from "../ops/samples.ts";
import { freeEndpoint, SERVE_FLAGS, steadyRate, WORKER_FLAGS, ZPIX_FLAGS } from "./helpers.ts";
import { parseJob } from "../cli/args.ts";
import type { Job } from "../core/job.ts";
import { processFile } from "../task/task.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";

const PYTHON = "/usr/bin/python3";
const REFERENCE = resolve(SOURCE_ROOT, "..", "shared", "bench", "reference.py");

/** One timed run. */
interface Timing {
  label: string;
  seconds: number;
  images: number;
  /** Images/s between 10% and 90% done, from the run's report (start-up and tail left out). */
  steady?: number;
}

async function writeJpegs(dir: string, count: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const [width, height] = SAMPLE_SIZES[i % SAMPLE_SIZES.length];
    const bytes = await encodeImage(sampleImage(width, height, i + 1), "jpeg", { quality: 90 });
    await Deno.writeFile(join(dir, `bench${String(i).padStart(4, "0")}.jpg`), bytes);
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) if (entry.isFile) n++;
  return n;
}

/** Runs commands side by side to the end, timed from outside; throws with stderr if one fails. */
async function timed(label: string, commands: [string, string[]][], output: string) {
  await Deno.remove(output, { recursive: true }).catch(() => {});
  await Deno.mkdir(output, { recursive: true });
  const started = performance.now();
  const results = await Promise.all(
    commands.map(([command, args]) =>
      new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output()
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const result of results) {
    if (!result.success) {
      throw new Error(
        `${label} failed (exit ${result.code}): ${new TextDecoder().decode(result.stderr)}`,
      );
    }
  }
  return { label, seconds, images: await countFiles(output) };
}

/**
 * `bench.ts --share IN OUT K N FLAGS...`: processes every Nth JPEG of IN
 * from the Kth, in this process, with zpix's own task code: the control
 * run (N plain processes, no ZeroMQ, no scheduling) that shows how much
 * parallelism the machine gives at that moment.
 */
async function share(args: string[]): Promise<void> {
  const [input, output, k, n, ...flags] = args;
  const { job } = parseJob("sequential", ["--input", input, "--output", output, ...flags]) as {
    job: Job;
  };
  const files = [...Deno.readDirSync(input)].map((e) => e.name).filter((name) =>
    /\.jpe?g$/i.test(name)
  ).sort();
  for (let i = Number(k); i < files.length; i += Number(n)) {
    const outcome = await processFile(join(input, files[i]), join(output, files[i]), job.pipeline);
    if (!outcome.ok) throw new Error(`${files[i]}: ${outcome.error}`);
  }
}

async function referenceAvailable(): Promise<string | null> {
  try {
    await Deno.stat(REFERENCE);
  } catch {
    return `no ${REFERENCE}`;
  }
  try {
    const probe = await new Deno.Command(PYTHON, {
      args: ["-c", "import zmq, PIL, cv2"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success
      ? null
      : `${PYTHON} cannot import zmq, PIL and cv2 (run ../shared/bench/setup.sh)`;
  } catch (error) {
    return `cannot run ${PYTHON}: ${(error as Error).message}`;
  }
}

const rate = (t: Timing) => t.images / t.seconds;

/** Runs the benchmark; prints a table. */
export async function bench(args: string[]): Promise<void> {
  const split = args.indexOf("--");
  const { values } = benchArgs(import.meta.url, {
    args: split >= 0 ? args.slice(0, split) : args,
    options: {
      input: { type: "string" },
      workers: { type: "string", default: "2" },
      count: { type: "string", default: "120" },
      repeat: { type: "string", default: "1" },
    },
  });
  const flags = split >= 0 ? args.slice(split + 1) : ["--size", "512", "512"];
  const workers = Number(values.workers);
  const tmp = await Deno.makeTempDir({ prefix: "zpix-bench-" });
  try {
    let input = values.input ? resolve(values.input) : join(tmp, "input");
    if (!values.input) await writeJpegs(input, Number(values.count));
    input = resolve(input);
    const images = [...Deno.readDirSync(input)].filter((e) => /\.jpe?g$/i.test(e.name)).length;
    const missing = await referenceAvailable();
    console.log(
      `zpix bench: ${images} JPEG(s) in ${input}, ${workers} worker(s), ${navigator.hardwareConcurrency} CPU(s), ` +
        `zpix flags: ${flags.join(" ")}${missing ? `\nreference skipped: ${missing}` : ""}`,
    );
    const zpixCommand = (mode: string, from: string, to: string, extra: string[]) =>
      [Deno.execPath(), [
        "run",
        "--quiet",
        ...ZPIX_FLAGS,
        join(SOURCE_ROOT, "main.ts"),
        mode,
        "--input",
        from,
        "--output",
        to,
        "--quiet",
        ...flags,
        ...extra,
      ]] as [string, string[]];
    const zpixRun = async (mode: string, extra: string[] = []) => {
      const report = join(tmp, `${mode}.json`);
      const timing: Timing = await timed(
        `zpix ${mode}${extra.length ? ` ${extra.join(" ")}` : ""}`,
        [zpixCommand(mode, input, join(tmp, mode), ["--report", report, ...extra])],
        join(tmp, mode),
      );
      const { progress, total } = JSON.parse(await Deno.readTextFile(report));
      return { ...timing, steady: steadyRate(progress, total) };
    };
    // `serve --workers 0` on 127.0.0.1 and `zpix worker` processes: the same work, sent as bytes.
    const remote = () => {
      const endpoint = freeEndpoint();
      const main = join(SOURCE_ROOT, "main.ts");
      const out = join(tmp, "remote");
      const server: [string, string[]] = [Deno.execPath(), [
        "run",
        "--quiet",
        ...SERVE_FLAGS,
        main,
        "serve",
        "--bind",
        endpoint,
        "--workers",
        "0",
        "--input",
        input,
        "--output",
        out,
        "--quiet",
        ...flags,
      ]];
      const worker: [string, string[]] = [Deno.execPath(), [
        "run",
        "--quiet",
        ...WORKER_FLAGS,
        main,
        "worker",
        "--connect",
        endpoint,
      ]];
      return timed(
        `zpix serve + ${workers} remote workers`,
        [server, ...Array.from({ length: workers }, () => worker)],
        out,
      );
    };
    const control = () =>
      timed(
        `control: ${workers} plain processes`,
        Array.from({ length: workers }, (_, k) => [Deno.execPath(), [
          "run",
          "--quiet",
          "--allow-read",
          "--allow-write",
          `--allow-ffi=${join(SOURCE_ROOT, "node_modules")}`,
          join(SOURCE_ROOT, "tests", "bench.ts"),
          "--share",
          input,
          join(tmp, "control"),
          String(k),
          String(workers),
          ...flags,
        ]]),
        join(tmp, "control"),
      );
    // The same control with the CLI: N `zpix sequential` processes, each on a folder holding
    // every Nth JPEG, into one output folder (start-up, planning and writing as a user's runs).
    const jpegs = [...Deno.readDirSync(input)].map((e) => e.name).filter((name) =>
      /\.jpe?g$/i.test(name)
    ).sort();
    const parts = Array.from({ length: workers }, (_, k) => join(tmp, "parts", String(k)));
    for (const [k, part] of parts.entries()) {
      await Deno.mkdir(part, { recursive: true });
      for (let i = k; i < jpegs.length; i += workers) {
        await Deno.copyFile(join(input, jpegs[i]), join(part, jpegs[i]));
      }
    }
    const controlCli = () =>
      timed(
        `control: ${workers} zpix sequential`,
        parts.map((part) => zpixCommand("sequential", part, join(tmp, "control-cli"), [])),
        join(tmp, "control-cli"),
      );
    const few = join(tmp, "few");
    await Deno.mkdir(few);
    // One image per worker. No row for the old program's parallel mode: on a run this short its
    // workers can miss its one "quit" broadcast (PUB/SUB joins late) and never exit.
    const firsts = [...Deno.readDirSync(input)].map((e) => e.name).filter((name) =>
      /\.jpe?g$/i.test(name)
    ).sort().slice(0, workers);
    for (const name of firsts) await Deno.copyFile(join(input, name), join(few, name));
    const fewRuns: Record<string, (output: string) => Promise<Timing>> = {
      "zpix sequential": (out) =>
        timed("zpix sequential", [zpixCommand("sequential", few, out, [])], out),
      "zpix parallel": (out) =>
        timed("zpix parallel", [
          zpixCommand("parallel", few, out, ["--workers", String(workers)]),
        ], out),
    };
    if (!missing) {
      fewRuns["reference sequential"] = (out) =>
        timed("reference", [[PYTHON, [REFERENCE, "sequential", few, out]]], out);
    }
    for (let round = 1; round <= Number(values.repeat); round++) {
      const rows: Record<string, Timing> = {};
      rows.sequential = await zpixRun("sequential");
      rows.parallel = await zpixRun("parallel", ["--workers", String(workers)]);
      // One task at a time (parallel's default asks for batches of 16: --batch 16).
      rows.oneAtATime = await zpixRun("parallel", [
        "--workers",
        String(workers),
        "--batch",
        "1",
        "--prefetch",
        "0",
      ]);
      rows.remote = await remote();
      rows.control = await control();
      rows.controlCli = await controlCli();
      if (!missing) {
        const reference = (mode: string, extra: string[]) =>
          timed(
            `reference ${mode}`,
            [[PYTHON, [REFERENCE, mode, input, join(tmp, `ref-${mode}`), ...extra]]],
            join(tmp, `ref-${mode}`),
          );
        rows.refSequential = await reference("sequential", []);
        rows.refParallel = await reference("parallel", [String(workers)]);
      }
      printTable(round, rows);
      await startup(fewRuns, firsts.length, tmp);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Start-up rows: each run on a folder of one image per worker, interleaved, this many times; the min. */
const STARTUP_REPEAT = 5;

/**
 * Times zpix sequential and parallel, and the reference's, on `count` images
 * (one per worker: what a run costs before its images: process start, module loading,
 * workers, sockets), interleaved, and prints the min of each and the ratios.
 */
async function startup(
  runs: Record<string, (output: string) => Promise<Timing>>,
  count: number,
  tmp: string,
): Promise<void> {
  const best: Record<string, number> = {};
  for (let i = 0; i < STARTUP_REPEAT; i++) {
    for (const [label, run] of Object.entries(runs)) {
      const { seconds, images } = await run(join(tmp, "startup-out"));
      if (images !== count) throw new Error(`${label}: ${images} outputs for ${count} images`);
      best[label] = Math.min(best[label] ?? Infinity, seconds);
    }
  }
  console.log(`start-up, ${count} image(s) (min of ${STARTUP_REPEAT}, interleaved):`);
  for (const [label, seconds] of Object.entries(best)) {
    console.log(`  ${label.padEnd(30)} ${seconds.toFixed(3)} s`);
  }
  const ratio = (a: string, b: string) => {
    if (best[a] && best[b]) console.log(`  ${b} / ${a} (time): ${(best[b] / best[a]).toFixed(2)}x`);
  };
  ratio("zpix sequential", "reference sequential");
}

function printTable(round: number, rows: Record<string, Timing>): void {
  console.log(`\nround ${round}`);
  console.log(
    `${"run".padEnd(32)} ${"images".padStart(6)} ${"seconds".padStart(8)} ${
      "img/s".padStart(8)
    }  img/s 10-90%`,
  );
  for (const row of Object.values(rows)) {
    console.log(
      `${row.label.padEnd(32)} ${String(row.images).padStart(6)} ${
        row.seconds.toFixed(2).padStart(8)
      } ${rate(row).toFixed(1).padStart(8)}  ${row.steady?.toFixed(1) ?? ""}`,
    );
  }
  const ratio = (label: string, a?: Timing, b?: Timing) => {
    if (a && b) console.log(`${label}: ${(rate(a) / rate(b)).toFixed(2)}x`);
  };
  const { sequential, parallel, oneAtATime, remote, control, controlCli } = rows;
  const { refSequential, refParallel } = rows;
  ratio("speedup zpix parallel / zpix sequential", parallel, sequential);
  ratio("speedup zpix parallel --batch 1 --prefetch 0 / zpix sequential", oneAtATime, sequential);
  if (parallel.steady && sequential.steady) {
    console.log(
      `steady-state speedup (10-90% done, start-up left out): ${
        (parallel.steady / sequential.steady).toFixed(2)
      }x`,
    );
  }
  ratio("speedup control / zpix sequential (what the machine allows)", control, sequential);
  ratio("zpix parallel / control", parallel, control);
  ratio("zpix parallel / control of zpix sequential processes", parallel, controlCli);
  ratio("zpix remote workers / zpix parallel (local workers)", remote, parallel);
  ratio("speedup reference parallel / reference sequential", refParallel, refSequential);
  ratio("zpix parallel / reference parallel", parallel, refParallel);
  ratio("zpix parallel --batch 1 --prefetch 0 / reference parallel", oneAtATime, refParallel);
  ratio("zpix sequential / reference sequential", sequential, refSequential);
}

if (import.meta.main) {
  if (Deno.args[0] === "--share") await share(Deno.args.slice(1));
  else if (Deno.args[0] === "--scale") {
    // The broker with many fake workers (tests/scale_bench.ts; tmpfs rows need scale-bench's -A).
    await (await import("./scale_bench.ts")).scaleBench(Deno.args.slice(1));
  } else if (Deno.args[0] === "--shared-fs") {
    await (await import("./shared_fs_bench.ts")).sharedFsBench(Deno.args.slice(1), timed);
  } else if (Deno.args[0] === "--long") {
    await (await import("./long_bench.ts")).longBench(Deno.args.slice(1));
  } else if (Deno.args[0] === "--large") {
    // Large photos against sharp-cli and vipsthumbnail (tests/large_bench.ts). It runs node,
    // vipsthumbnail, jpegtran and python3, which this task's flags do not list: its own process,
    // with all permissions (this task may already run deno, which is as much).
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(SOURCE_ROOT, "tests", "large_bench.ts"), ...Deno.args.slice(1)],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    Deno.exit(code);
  } else await bench(Deno.args);
}

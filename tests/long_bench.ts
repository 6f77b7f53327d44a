/**
 * `deno task bench --long`: the long run, 8,091 photos (Flickr8k's
 * count) to 512x512: zpix sequential against the old program's OpenCV
 * sequential, and zpix parallel against the old program's pyzmq + Pillow
 * parallel (`../shared/bench/reference.py`), each program its own process,
 * one after the other, timed from outside by `/usr/bin/time` (wall, user and
 * system CPU), `--repeat` rounds (each ~2 minutes on 2 cores).
 *
 *   deno task bench --long [--input DIR] [--photos DIR] [--count N] [--workers N] [--repeat R]
 *
 * Without `--input`, it copies the JPEGs of `--photos` (default
 * `../shared/datasets/photos`, 300 photos) under distinct names into a
 * temporary folder until there are `--count` (8,091) of them.
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join, resolve } from "node:path";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { zpixArgs } from "./helpers.ts";

const PYTHON = "/usr/bin/python3";
const TIME = "/usr/bin/time";
const REFERENCE = resolve(SOURCE_ROOT, "..", "shared", "bench", "reference.py");
const PHOTOS = resolve(SOURCE_ROOT, "..", "shared", "datasets", "photos");

/** One timed run: seconds of wall time, user and system CPU (of the process and its children). */
interface Times {
  wall: number;
  user: number;
  sys: number;
}

/** Copies the JPEGs of `photos` into `dir` under distinct names until there are `count`. */
async function makeInputs(photos: string, dir: string, count: number): Promise<void> {
  const names = [...Deno.readDirSync(photos)].map((e) => e.name)
    .filter((name) => /\.jpe?g$/i.test(name)).sort();
  if (names.length === 0) throw new Error(`no JPEG in ${photos}`);
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const name = names[i % names.length];
    await Deno.copyFile(join(photos, name), join(dir, `${i}_${name}`));
  }
}

/** Runs `program args` under /usr/bin/time into a fresh `out`; checks it wrote `expected` files. */
async function timed(program: string, args: string[], out: string, expected: number) {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  const result = await new Deno.Command(TIME, {
    args: ["-f", "zpix-long %e %U %S", program, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  const line = stderr.split("\n").find((l) => l.startsWith("zpix-long "));
  if (!result.success || !line) throw new Error(`${program} failed: ${stderr}`);
  const written = [...Deno.readDirSync(out)].length;
  if (written !== expected) throw new Error(`${program}: ${written} outputs of ${expected}`);
  const [wall, user, sys] = line.split(" ").slice(1).map(Number);
  return { wall, user, sys } satisfies Times;
}

/** Runs the long benchmark; prints a table and the ratios per round. */
export async function longBench(args: string[]): Promise<void> {
  const { values } = benchArgs(import.meta.url, {
    args,
    options: {
      input: { type: "string" },
      photos: { type: "string", default: PHOTOS },
      count: { type: "string", default: "8091" },
      workers: { type: "string", default: "2" },
      repeat: { type: "string", default: "1" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "zpix-long-" });
  try {
    const input = values.input ? resolve(values.input) : join(tmp, "input");
    if (!values.input) await makeInputs(values.photos, input, Number(values.count));
    const images = [...Deno.readDirSync(input)].filter((e) => /\.jpe?g$/i.test(e.name)).length;
    const out = join(tmp, "out");
    const workers = values.workers;
    const zpix = (mode: string, extra: string[]) =>
      zpixArgs([mode, "-i", input, "-o", out, "--size", "512", "512", "-q", ...extra]);
    const rows: [string, string, string[]][] = [
      ["zpix sequential", Deno.execPath(), zpix("sequential", [])],
      ["old program, OpenCV, sequential", PYTHON, [REFERENCE, "sequential", input, out]],
      [`zpix parallel ${workers}`, Deno.execPath(), zpix("parallel", ["--workers", workers])],
      [`old program, parallel ${workers}`, PYTHON, [REFERENCE, "parallel", input, out, workers]],
    ];
    console.log(
      `long run: ${images} JPEGs in ${input} to 512x512, ${navigator.hardwareConcurrency} CPUs, ` +
        `each program its own process, timed by ${TIME}`,
    );
    for (let round = 1; round <= Number(values.repeat); round++) {
      const times: Times[] = [];
      for (const [, program, programArgs] of rows) {
        times.push(await timed(program, programArgs, out, images));
      }
      console.log(`\nround ${round}`);
      console.log(
        `${"run".padEnd(34)} ${"wall s".padStart(7)} ${"user s".padStart(7)} ` +
          `${"sys s".padStart(6)} ${"img/s".padStart(7)}`,
      );
      for (const [i, [label]] of rows.entries()) {
        const t = times[i];
        console.log(
          `${label.padEnd(34)} ${t.wall.toFixed(1).padStart(7)} ${t.user.toFixed(1).padStart(7)} ` +
            `${t.sys.toFixed(1).padStart(6)} ${(images / t.wall).toFixed(0).padStart(7)}`,
        );
      }
      const [seq, refSeq, par, refPar] = times;
      console.log(
        `zpix sequential / OpenCV sequential (speed, wall): ${
          (refSeq.wall / seq.wall).toFixed(2)
        }x ` +
          `(user CPU: ${(refSeq.user / seq.user).toFixed(2)}x; the issue's goal >= 1.0)`,
      );
      console.log(
        `zpix parallel / old parallel (speed, wall): ${(refPar.wall / par.wall).toFixed(2)}x ` +
          `(the issue's goal >= 1.5)`,
      );
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * `deno task bench --shared-fs`: `serve --shared-fs` with remote workers
 * that read inputs and write outputs on a folder they share with the server
 * (`worker --shared-fs`), against the same server and workers sending bytes
 * (`serve` + `zpix worker`, the default) and against `parallel` (local
 * workers), all on 127.0.0.1, interleaved, each run timed from outside
 * (start-up included). The outputs of the two remote rows are compared byte
 * for byte after the first round; the server's CPU time a task (user +
 * system, `/usr/bin/time`) is shown for both.
 *
 *   deno task bench --shared-fs --input DIR [--workers N] [--repeat R] [-- zpix flags]
 *
 * The pipeline is `--size 512 512` unless zpix flags follow `--`. Take the
 * bench lock around it on a shared machine (`flock /tmp/zpix-bench.lock ...`).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { benchArgs } from "./bench_args.ts";
import { freeEndpoint, SERVE_FLAGS, WORKER_FLAGS, ZPIX_FLAGS } from "./helpers.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";

type Command = [string, string[]];

const MAIN = join(SOURCE_ROOT, "main.ts");

/** bench.ts's `timed`: runs commands side by side, timed from outside, and counts the outputs. */
type Timed = (
  label: string,
  commands: Command[],
  output: string,
) => Promise<{ label: string; seconds: number; images: number }>;

/** This script's flags (the zpix flags follow `--`). */
const OPTIONS = {
  input: { type: "string" },
  workers: { type: "string", default: "2" },
  repeat: { type: "string", default: "3" },
} as const;

/** Runs the benchmark with bench.ts's `timed`; prints each round and the medians. */
export async function sharedFsBench(args: string[], timed: Timed): Promise<void> {
  const at = args.indexOf("--");
  const own = at < 0 ? args : args.slice(0, at);
  const flags = at < 0 ? ["--size", "512", "512"] : args.slice(at + 1);
  const { values } = benchArgs(import.meta.url, { args: own, options: OPTIONS });
  if (!values.input) throw new Error("--input DIR is required");
  const input = resolve(values.input);
  const workers = Number(values.workers);
  const tmp = await Deno.makeTempDir({ prefix: "zpix-shared-bench-" });
  const job = (mode: string, out: string, extra: string[]) => [
    MAIN,
    mode,
    ...["--input", input, "--output", out, "--quiet", ...flags, ...extra],
  ];
  const serverCpu: Record<string, number[]> = {};
  const remote = async (shared: boolean) => {
    const endpoint = freeEndpoint();
    const out = join(tmp, shared ? "shared" : "bytes");
    const folders = shared ? [input, out] : [];
    const worker: Command = [Deno.execPath(), [
      "run",
      "--quiet",
      ...WORKER_FLAGS.map((f) =>
        shared && f.startsWith("--allow-read=") ? [f, ...folders].join(",") : f
      ),
      ...(shared ? [`--allow-write=${folders.join(",")}`] : []),
      MAIN,
      "worker",
      "--connect",
      endpoint,
      ...folders.flatMap((f) => ["--shared-fs", f]),
    ]];
    // The server's own CPU time (user + system), from /usr/bin/time.
    const cpuFile = join(tmp, shared ? "cpu-shared" : "cpu-bytes");
    const server: Command = ["/usr/bin/time", [
      ...["-o", cpuFile, "-f", "%U %S", Deno.execPath()],
      "run",
      "--quiet",
      ...SERVE_FLAGS,
      ...job("serve", out, [
        "--bind",
        endpoint,
        "--workers",
        "0",
        ...(shared ? ["--shared-fs"] : []),
      ]),
    ]];
    const label = `serve${shared ? " --shared-fs" : ""} + ${workers} workers${
      shared ? " --shared-fs" : " (bytes)"
    }`;
    const timing = await timed(
      label,
      [server, ...Array.from({ length: workers }, () => worker)],
      out,
    );
    const [user, system] = (await Deno.readTextFile(cpuFile)).trim().split("\n").at(-1)!.split(" ");
    (serverCpu[label] ??= []).push(((Number(user) + Number(system)) * 1000) / timing.images);
    return timing;
  };
  const parallel = () => {
    const out = join(tmp, "parallel");
    return timed(`parallel --workers ${workers}`, [[Deno.execPath(), [
      "run",
      "--quiet",
      ...ZPIX_FLAGS,
      ...job("parallel", out, ["--workers", String(workers)]),
    ]]], out);
  };
  const rows: Record<string, number[]> = {};
  try {
    console.log(`zpix shared-fs bench: ${input}, ${workers} worker(s), flags: ${flags.join(" ")}`);
    for (let round = 1; round <= Number(values.repeat); round++) {
      // Interleaved, the order turned each round.
      const runs = [parallel, () => remote(false), () => remote(true)];
      for (let i = 0; i < round - 1; i++) runs.push(runs.shift()!);
      for (const run of runs) {
        const t = await run();
        (rows[t.label] ??= []).push(t.seconds);
        console.log(
          `round ${round}: ${t.label.padEnd(40)} ${t.images} images ${t.seconds.toFixed(2)} s`,
        );
      }
      if (round === 1) await compare(join(tmp, "bytes"), join(tmp, "shared"));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log("\nseconds (median, min-max):");
    for (const [label, xs] of Object.entries(rows)) {
      console.log(
        `  ${label.padEnd(40)} ${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${
          Math.max(...xs).toFixed(2)
        })`,
      );
    }
    for (const [label, xs] of Object.entries(serverCpu)) {
      console.log(
        `  server CPU a task, ${label.padEnd(40)} ${median(xs).toFixed(3)} ms (${
          Math.min(...xs).toFixed(3)
        }-${Math.max(...xs).toFixed(3)})`,
      );
    }
    const [par, bytes, shared] = Object.values(rows).map(median);
    console.log(`speed shared-fs / bytes: ${(bytes / shared).toFixed(2)}x`);
    console.log(`speed shared-fs / parallel (local workers): ${(par / shared).toFixed(2)}x`);
    console.log(`speed bytes / parallel (local workers): ${(par / bytes).toFixed(2)}x`);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Throws unless both folders hold the same files, byte for byte. */
async function compare(a: string, b: string): Promise<void> {
  const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  const list = names(a);
  if (JSON.stringify(list) !== JSON.stringify(names(b))) throw new Error(`${a} and ${b} differ`);
  for (const name of list) {
    const [x, y] = [await Deno.readFile(join(a, name)), await Deno.readFile(join(b, name))];
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) {
      throw new Error(`${name}: the shared-fs output differs from the bytes path's`);
    }
  }
  console.log(`outputs: ${list.length} files, byte-identical (bytes and shared-fs)`);
}

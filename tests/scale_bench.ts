/**
 * `deno task scale-bench` (or `deno task bench --scale`): how much one
 * server feeds. A real `serve --workers 0` process (timed from outside by
 * /usr/bin/time: wall, CPU, peak RSS) hands tiny images to fake workers
 * that speak the real protocol over real tcp sockets and answer every
 * task at once with a tiny JPEG ({@link runFarm}: one loop for all the
 * fakes of a process), in one or more "farm" processes. Each fake sends a heartbeat every 500 ms and
 * listens to the broadcasts, as a real worker does. The task runs with
 * --allow-all: Deno grants /dev/shm to nothing less (the server run that
 * writes there too; the temporary-folder runs get `deno task serve`'s flags).
 *
 *   deno task scale-bench [--capacity] [--scale] [--real] [--workers N] [--fakes N] [--images N] [--procs P]
 *                         [--repeat R] [--folders tmp,shm] [--baseline DIR] [--no-floor] [--fake-batch B]
 *                         [--fake-ms MS]
 *                         [-- serve flags]
 *
 * `--capacity` (default with no mode): 8 fakes, 5,000 images, outputs in
 * the temporary folder and on tmpfs (/dev/shm), R rounds interleaved.
 * SCALE_BENCH_WRAP="perf record -g -o FILE" (say) runs the server under a profiler;
 * SCALE_BENCH_DENO_FLAGS="--cpu-prof --cpu-prof-dir=DIR" gives its `deno run` more flags.
 * `--baseline DIR`: each row also with the server of another checkout (say,
 * main's), interleaved, for before/after figures from the same run. Each
 * round also times the file calls alone in each folder ("files alone":
 * the ceiling the file system sets; `--no-floor` leaves it out).
 * `--fake-batch B`: the fakes ask for B tasks at a time, as `zpix worker
 * --batch B` does (default: the default of the checkout whose server they
 * face, so a `--baseline` row is that checkout's default flags too; 1: one
 * task a message, as before batches).
 * `--scale`: 64 fakes, one table row a round: tasks/s, each worker's share
 * (min and max against the mean), heartbeat traffic, server CPU and RSS,
 * each farm process's mean share; and a "paced" row beside it whose fakes
 * take `--fake-ms` (2) ms a task, a timer rather than CPU: equally fast
 * workers. Instant fakes are only as fast as their farm gets the CPU (two
 * farms on two cores with the server are rarely served alike), and with
 * batches the server no longer evens that out by being the limit: their
 * spread is mostly between farms (the last column). `--fake-ms MS` also
 * adds paced rows to `--capacity` (0 there by default, and 0 leaves them out).
 * `--real`: real local workers instead of fakes, `parallel --workers N`
 * (`--workers`, 2) on the same images with its default flags: tasks a
 * second per worker (steady, from the run's report), wall and tree CPU.
 * With no mode flag, all three.
 *
 * @module
 */

import { benchArgs } from "./bench_args.ts";
import { join } from "node:path";
import { pathToFileURL as toFileUrl } from "node:url";
import process from "node:process";
import { FakeWorker, freeEndpoint, SERVE_FLAGS, steadyRate, ZPIX_FLAGS } from "./helpers.ts";
import * as zmq from "../transport/zmq.ts";
import {
  broadcastEndpoint,
  decodeBroadcast,
  decodeServerMessage,
  HEARTBEAT_MS,
} from "../transport/protocol.ts";
import { MAX_HOLD_MS, SOCKET_OPTIONS, WAIT_SLICE_MS } from "../transport/socket_io.ts";
import { encodeImage } from "../ops/codec.ts";
import { sampleImage } from "../ops/samples.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { WORKER_BATCH } from "../cli/options.ts";
import { reportDue, wantMore } from "../worker/batch.ts";

/** What one farm of fake workers saw. */
export interface FarmStats {
  /** Tasks answered, by worker id. */
  tasks: Record<string, number>;
  /** Epoch ms of the first task any of them received, and of the last. */
  first: number;
  last: number;
  /** Heartbeats the fakes sent, and broadcasts they heard. */
  heartbeats: number;
  broadcasts: number;
  /** The farm process's CPU seconds (user + system) at the end. */
  cpu?: number;
}

/** A paced fake's tasks in hand (see {@link runFarm}'s `workMs`). */
export interface Pace {
  /** Tasks held and not done, in the order granted. */
  held: { task: number; attempt: number }[];
  /** Tasks done and not reported yet. */
  done: { task: number; attempt: number }[];
  /** The size of the last grant (a real worker reports at half of a small one). */
  grant: number;
  /** When the first held task is done (epoch ms). */
  busyUntil: number;
}

/** The words of environment variable `name` (none if unset or not allowed). */
function words(name: string): string[] {
  try {
    return Deno.env.get(name)?.split(" ").filter(Boolean) ?? [];
  } catch {
    return []; // deno task bench --scale does not grant it
  }
}

/** The load average, or "?" where --allow-sys=loadavg is not granted. */
function uptime(): string {
  try {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  } catch {
    return "?";
  }
}

/** This process's CPU seconds (user + system, all threads). */
function processCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const epoch = () => performance.timeOrigin + performance.now();

/** A tiny (16x16) JPEG: every input, and every output the fakes send back. */
export function tinyJpeg(): Promise<Uint8Array> {
  return encodeImage(sampleImage(16, 16, 1), "jpeg", { quality: 80 });
}

/**
 * Runs fake workers `ids` against the server at `endpoint` until it
 * broadcasts quit: each joins, answers every task at once with `output`
 * (asking for `batch` tasks at a time and answering each grant in one
 * `results`, as a real worker with that `--batch` does; `batch` 1: one
 * `result` a task, as a real worker with `--batch 1`; a server that knows no
 * batches gets the latter whatever `batch` says),
 * sends a heartbeat every `heartbeatMs` and reads every broadcast on its own SUB.
 * `workMs` > 0: each fake instead takes that long a task, one task after
 * another, whatever the farm's share of the CPU (a timer, not work), and
 * reports as `zpix worker` does (worker/batch.ts `reportDue`: at half
 * of its batch, of a small grant, or at the grant's end): "equally fast"
 * workers, where instant ones are only as fast as their farm process's
 * share of the cores. One loop serves them all, as cheaply as the protocol allows (the fakes'
 * CPU competes with the server's on a small machine): every socket is
 * drained in turn, then one wait for all of them, briefly on this thread
 * (the next task is usually a fraction of a millisecond away) and then on a
 * helper thread, letting the event loop (heartbeats) run a turn at least
 * every {@link MAX_HOLD_MS}.
 */
export async function runFarm(
  endpoint: string,
  ids: string[],
  output: Uint8Array,
  heartbeatMs = HEARTBEAT_MS,
  batch = WORKER_BATCH,
  workMs = 0,
): Promise<FarmStats> {
  const stats: FarmStats = { tasks: {}, first: 0, last: 0, heartbeats: 0, broadcasts: 0 };
  const paces = new Map<FakeWorker, Pace>();
  const subs = ids.map(() => new zmq.Subscriber(SOCKET_OPTIONS));
  const fakes = ids.map((id) => new FakeWorker(endpoint, id, heartbeatMs));
  const sockets = [...fakes.map((fake) => fake.dealer), ...subs];
  let quit = false;
  const hear = () => {
    let heard = false;
    for (const sub of subs) {
      for (let frames; (frames = sub.tryReceive());) {
        heard = true;
        stats.broadcasts++;
        if (decodeBroadcast(frames).type === "quit") quit = true;
      }
    }
    return heard;
  };
  try {
    for (const sub of subs) {
      sub.subscribe();
      sub.connect(broadcastEndpoint(endpoint));
    }
    await Promise.all(fakes.map((fake) => fake.join(batch > 1 ? batch : undefined)));
    for (const id of ids) stats.tasks[id] = 0;
    let lingered = false, turned = performance.now(), pass = 0;
    while (!quit) {
      let any = hear() || (workMs > 0 && pace(paces, output, batch, workMs));
      // Each pass starts with the next fake: none is always first to answer (fairness is measured).
      const start = pass++ % fakes.length;
      for (const fake of [...fakes.slice(start), ...fakes.slice(0, start)]) {
        for (let frames; (frames = fake.dealer.tryReceive());) {
          any = true;
          const { message } = decodeServerMessage(frames);
          if (message.type !== "task" && message.type !== "tasks") continue;
          const now = epoch();
          if (!stats.first) stats.first = now;
          stats.last = now;
          if (workMs > 0) {
            const tasks = message.type === "task" ? [message] : message.tasks;
            stats.tasks[fake.id] += tasks.length;
            const state = paces.get(fake) ?? { held: [], done: [], grant: 0, busyUntil: 0 };
            if (!state.held.length) state.busyUntil = now + workMs;
            state.held.push(...tasks);
            state.grant = tasks.length;
            paces.set(fake, state);
          } else if (message.type === "task") {
            stats.tasks[fake.id]++;
            void fake.succeed(message, output);
          } else {
            stats.tasks[fake.id] += message.tasks.length;
            void fake.succeedAll(message.tasks, output, batch);
          }
        }
      }
      if (any) lingered = false;
      if (performance.now() - turned > MAX_HOLD_MS || (!any && lingered)) {
        const due = workMs > 0 ? nextDue(paces) - epoch() : Infinity;
        await zmq.waitReadable(
          sockets,
          any ? 0 : Math.max(0, Math.ceil(Math.min(WAIT_SLICE_MS, due))),
        );
        turned = performance.now();
        lingered = false;
      } else if (!any) {
        lingered = true;
        zmq.pollReadable(sockets, 1);
      }
    }
  } finally {
    fakes.forEach((fake) => fake.close());
    subs.forEach((sub) => sub.close());
  }
  stats.heartbeats = fakes.reduce((sum, fake) => sum + fake.heartbeats, 0);
  return stats;
}

/** When the next paced fake finishes a task (Infinity: none holds any). */
function nextDue(paces: Map<FakeWorker, Pace>): number {
  let due = Infinity;
  for (const state of paces.values()) if (state.held.length) due = Math.min(due, state.busyUntil);
  return due;
}

/**
 * Paced fakes (see {@link runFarm}): finishes the tasks whose time has come
 * and sends what a real worker would report now. Returns whether any sent.
 */
export function pace(
  paces: Map<FakeWorker, Pace>,
  output: Uint8Array,
  batch: number,
  workMs: number,
): boolean {
  const now = epoch();
  let sent = false;
  for (const [fake, state] of paces) {
    while (state.held.length && now >= state.busyUntil) {
      state.done.push(state.held.shift()!);
      state.busyUntil += workMs;
    }
    const n = state.done.length, left = state.held.length;
    if (batch <= 1) {
      // One task a message: its result asks for the next.
      for (const task of state.done) void fake.succeed(task, output);
    } else if (reportDue(n, left, batch, state.grant)) {
      // As `zpix worker` asks: never below 0. A fake can hold more than `batch` (two results in
      // flight each asked for a full batch, and the server caps at its own --batch, 16); a negative
      // `want` made the server refuse the whole message as bad (silently under --quiet), its
      // tasks then held until --task-timeout: the "lost results" of paced runs with batches.
      void fake.succeedAll(state.done, output, wantMore(batch, left, 0, 0));
    } else continue;
    if (n > 0) sent = true;
    state.done = [];
  }
  return sent;
}

/** The arguments of a `serve --workers 0` run of the tiny images, and `extra`. */
export function serveArgs(
  endpoint: string,
  input: string,
  output: string,
  extra: string[] = [],
): string[] {
  return ["serve", "--workers", "0", "--bind", endpoint, "--input", input, "--output", output]
    .concat(["--quiet", "--size", "16", "16", ...extra]);
}

/** One server run's figures. */
export interface ScaleRun {
  fakes: number;
  tasks: number;
  /** Tasks answered per second, first task to last (from the fakes' clocks). */
  tasksPerSecond: number;
  /** Fewest and most tasks a worker did, against the mean (1 = fair). */
  minShare: number;
  maxShare: number;
  /** Each farm process's mean tasks a worker, against the mean (instant fakes: its CPU share). */
  farmShares: number[];
  /** Heartbeat messages per second: the fakes' heartbeats plus the broadcasts they heard. */
  heartbeatsPerSecond: number;
  /** The fake workers' processes' CPU seconds, all together. */
  farmCpu: number;
  /** The server process: wall seconds, CPU seconds (user + system), peak RSS in MiB. */
  wall: number;
  cpu: number;
  rssMiB: number;
}

/** `flags` for a zpix checkout at `root` writing to `output`. */
function denoFlags(flags: readonly string[], output: string, root: string): string[] {
  // Deno grants /dev (tmpfs /dev/shm) to --allow-all alone.
  if (output.startsWith("/dev/")) return ["--allow-all"];
  const modules = join(root, "node_modules");
  return flags.map((flag) =>
    flag.startsWith("--allow-ffi=") ? `--allow-ffi=${modules},${Deno.realPathSync(modules)}` : flag
  );
}

/**
 * Runs `serve --workers 0` on `input` to `output` against `fakes` fakes in
 * `procs` farms, each asking for `batch` tasks at a time (see {@link runFarm}).
 */
export async function scaleRun(
  input: string,
  output: string,
  fakes: number,
  procs: number,
  root = SOURCE_ROOT,
  extra: string[] = [],
  batch = WORKER_BATCH,
  workMs = 0,
): Promise<ScaleRun> {
  // A fresh folder each run, all removed at the end: on ext4, files deleted in the last seconds
  // make the next ones' inode allocation scan past them (`recently_deleted` at the top of
  // `perf`), a cost of the benchmark's own clean-up rather than of the server.
  await Deno.mkdir(output, { recursive: true });
  const endpoint = freeEndpoint();
  const server = new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "zpix-time %e %U %S %M",
      ...words("SCALE_BENCH_WRAP"),
      Deno.execPath(),
      "run",
      "--quiet",
      ...words("SCALE_BENCH_DENO_FLAGS"),
      ...denoFlags(SERVE_FLAGS, output, root),
      join(root, "main.ts"),
      ...serveArgs(endpoint, input, output, extra),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const farms = Array.from({ length: procs }, (_, p) => {
    const ids = Array.from(
      { length: fakes },
      (_, i) => `fake${String(i).padStart(3, "0")}`,
    ).filter((_, i) => i % procs === p);
    return new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-env",
        `--allow-ffi=${join(SOURCE_ROOT, "node_modules")}`,
        join(SOURCE_ROOT, "tests", "scale_bench.ts"),
        "--farm",
        endpoint,
        String(batch),
        String(workMs),
        ...ids,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  });
  const [served, ...farmed] = await Promise.all([server.output(), ...farms]);
  const stderr = new TextDecoder().decode(served.stderr);
  const time = /zpix-time ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  if (!served.success || !time) throw new Error(`serve failed (${served.code}): ${stderr}`);
  const stats: FarmStats[] = farmed.map((out) => {
    if (!out.success) throw new Error(`a farm failed (${out.code})`);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  });
  const counts = stats.flatMap((s) => Object.values(s.tasks));
  const tasks = counts.reduce((a, b) => a + b, 0);
  const mean = tasks / counts.length;
  // A farm whose workers got no task (starved) has no first task.
  const first = Math.min(...stats.filter((s) => s.first > 0).map((s) => s.first)),
    last = Math.max(...stats.map((s) => s.last));
  const seconds = (last - first) / 1000;
  const wall = Number(time[1]);
  return {
    fakes,
    tasks,
    tasksPerSecond: tasks / seconds,
    minShare: Math.min(...counts) / mean,
    maxShare: Math.max(...counts) / mean,
    farmShares: stats.map((s) => {
      const mine = Object.values(s.tasks);
      return mine.reduce((a, b) => a + b, 0) / mine.length / mean;
    }),
    heartbeatsPerSecond: stats.reduce((sum, s) => sum + s.heartbeats + s.broadcasts, 0) / wall,
    farmCpu: stats.reduce((sum, s) => sum + (s.cpu ?? NaN), 0),
    wall,
    cpu: Number(time[2]) + Number(time[3]),
    rssMiB: Number(time[4]) / 1024,
  };
}

/** The fewest images a fake worker `scaleBench` accepts (see its check). */
const MIN_IMAGES_A_FAKE = 10;

/** One run of real local workers: `parallel --workers N` on the tiny images. */
export interface RealRun {
  workers: number;
  tasks: number;
  /** Tasks a second per worker between 10 % and 90 % done (the run's report). */
  perWorker: number;
  /** The whole process tree: wall seconds, CPU seconds (user + system). */
  wall: number;
  cpu: number;
}

/**
 * Runs `parallel --workers N` (its default flags: `--batch 16`) on `input`
 * to `output`, `--size 16 16` and `extra`: what one real worker does a
 * second with images that take microseconds (issue 17: >= 1,000 each).
 */
export async function realRun(
  input: string,
  output: string,
  workers: number,
  root = SOURCE_ROOT,
  extra: string[] = [],
): Promise<RealRun> {
  await Deno.mkdir(output, { recursive: true });
  const report = `${output}.json`;
  const args = ["parallel", "--workers", String(workers), "--input", input, "--output", output];
  const run = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "zpix-time %e %U %S", Deno.execPath(), "run", "--quiet"]
      .concat(denoFlags(ZPIX_FLAGS, output, root), join(root, "main.ts"), args)
      .concat(["--quiet", "--size", "16", "16", "--report", report, ...extra]),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  const time = /zpix-time ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!run.success || !time) throw new Error(`parallel failed (${run.code}): ${stderr}`);
  const { progress, total } = JSON.parse(await Deno.readTextFile(report));
  return {
    workers,
    tasks: total,
    perWorker: (steadyRate(progress, total) ?? NaN) / workers,
    wall: Number(time[1]),
    cpu: Number(time[2]) + Number(time[3]),
  };
}

/**
 * What the server's file calls alone cost in `output`: each input of `input`
 * stat'ed and read, written under a temporary name and renamed (what the
 * server does for a remote task, synchronously, nothing else), in this process.
 * Returns files a second and microseconds of CPU a file.
 */
export function fileFloor(input: string, output: string): { perSecond: number; cpuMicros: number } {
  Deno.mkdirSync(output, { recursive: true });
  const names = [...Deno.readDirSync(input)].map((entry) => entry.name);
  const cpu0 = processCpu(), t0 = performance.now();
  for (const name of names) {
    const path = join(input, name);
    Deno.statSync(path);
    const bytes = Deno.readFileSync(path);
    const temp = join(output, `.${name}.zpix-tmp-0-00000000`);
    Deno.writeFileSync(temp, bytes);
    Deno.renameSync(temp, join(output, name));
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    perSecond: names.length / seconds,
    cpuMicros: ((processCpu() - cpu0) / names.length) * 1e6,
  };
}

/** `--fake-batch`, or the default `zpix worker --batch` of the checkout at `root`. */
async function fakeBatch(root: string, flag: string | undefined): Promise<number> {
  if (flag !== undefined) return Number(flag);
  if (root === SOURCE_ROOT) return WORKER_BATCH;
  const options = await import(toFileUrl(join(root, "cli", "options.ts")).href);
  return Number(options.WORKER_BATCH ?? 1);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function row(label: string, run: ScaleRun): string {
  return [
    label.padEnd(30),
    String(run.fakes).padStart(5),
    String(run.tasks).padStart(6),
    run.tasksPerSecond.toFixed(0).padStart(8),
    `${run.minShare.toFixed(2)}-${run.maxShare.toFixed(2)}`.padStart(10),
    run.heartbeatsPerSecond.toFixed(0).padStart(7),
    run.wall.toFixed(2).padStart(6),
    run.cpu.toFixed(2).padStart(6),
    ((run.cpu / run.tasks) * 1e6).toFixed(0).padStart(7),
    run.rssMiB.toFixed(0).padStart(7),
    ((run.farmCpu / run.tasks) * 1e6).toFixed(0).padStart(7),
    run.farmShares.map((x) => x.toFixed(2)).join("/").padStart(10),
  ].join(" ");
}

const HEADER = `${
  "folder".padEnd(30)
} fakes  tasks  tasks/s      share  hb/s   wall    cpu  µs cpu  RSS MiB  fakes µs  farms' share`;

/** Runs the benchmark; prints a table a mode. */
export async function scaleBench(args: string[]): Promise<void> {
  const split = args.indexOf("--");
  const extra = split >= 0 ? args.slice(split + 1) : [];
  const { values } = benchArgs(import.meta.url, {
    args: split >= 0 ? args.slice(0, split) : args,
    options: {
      capacity: { type: "boolean" },
      scale: { type: "boolean" },
      real: { type: "boolean" },
      workers: { type: "string", default: "2" },
      fakes: { type: "string" },
      images: { type: "string", default: "5000" },
      procs: { type: "string", default: "2" },
      repeat: { type: "string", default: "3" },
      folders: { type: "string", default: "tmp,shm" },
      baseline: { type: "string" },
      floor: { type: "boolean", default: true },
      "fake-batch": { type: "string" },
      "fake-ms": { type: "string" },
    },
    allowNegative: true,
  });
  const both = !values.capacity && !values.scale && !values.real;
  // Fewer images than that and the server can finish and quit before every fake has joined: a
  // late fake would wait for a hello that never comes.
  const mostFakes = values.scale || both ? Number(values.fakes ?? 64) : Number(values.fakes ?? 8);
  const fakeModes = values.capacity || values.scale || both;
  if (fakeModes && !(Number(values.images) >= MIN_IMAGES_A_FAKE * mostFakes && mostFakes >= 1)) {
    console.error(
      `--images ${values.images} --fakes ${mostFakes}: give at least ${MIN_IMAGES_A_FAKE} images ` +
        `a fake worker (--images ${MIN_IMAGES_A_FAKE * Math.max(1, mostFakes)} or more), ` +
        `or the run can end before every fake has joined`,
    );
    Deno.exit(2);
  }
  const tmp = await Deno.makeTempDir({ prefix: "zpix-scale-" });
  const shm = await Deno.makeTempDir({ prefix: "zpix-scale-", dir: "/dev/shm" }).catch(() => null);
  try {
    const input = join(tmp, "input");
    await Deno.mkdir(input);
    const jpeg = await tinyJpeg();
    const images = Number(values.images);
    for (let i = 0; i < images; i++) {
      await Deno.writeFile(join(input, `t${String(i).padStart(5, "0")}.jpg`), jpeg);
    }
    // Rows: [label, output folder, zpix checkout]; with --baseline, each folder for both, interleaved.
    const roots: [string, string][] = [
      ["", SOURCE_ROOT],
      ...(values.baseline ? [[" (baseline)", values.baseline] as [string, string]] : []),
    ];
    const rows: [string, string, string][] = values.folders.split(",").flatMap((f) =>
      f === "shm" ? (shm ? [["tmpfs", join(shm, "out")]] as [string, string][] : []) : [[
        "temp folder",
        join(tmp, "out"),
      ]]
    ).flatMap(([label, out]) =>
      roots.map(([tag, root]): [string, string, string] => [label + tag, out, root])
    );
    // [mode, fakes, ms a task of the paced fakes' rows (0: instant fakes only)]
    const modes: [string, number, number][] = [];
    if (values.capacity || both) {
      modes.push(["capacity", Number(values.fakes ?? 8), Number(values["fake-ms"] ?? 0)]);
    }
    if (values.scale || both) {
      modes.push(["scale", Number(values.fakes ?? 64), Number(values["fake-ms"] ?? 2)]);
    }
    if (!shm && values.folders.includes("shm")) {
      console.log(
        "tmpfs rows skipped: Deno grants /dev/shm only to --allow-all (deno task scale-bench)",
      );
    }
    let runs = 0;
    for (const [mode, fakes, workMs] of modes) {
      console.log(
        `\n${mode}: serve --workers 0 ${
          extra.join(" ")
        }, ${fakes} fake workers in ${values.procs} process(es) (instant${
          workMs ? `; "paced": ${workMs} ms a task` : ""
        }, asking for ${values["fake-batch"] ?? "`zpix worker`'s default"} at a time), ` +
          `${images} images of ${jpeg.length} bytes, ${navigator.hardwareConcurrency} CPU(s), load ${uptime()}`,
      );
      console.log(HEADER);
      const rates = new Map<string, number[]>(), shares = new Map<string, number[]>();
      for (let round = 0; round < Number(values.repeat); round++) {
        for (const [label, output, root] of rows) {
          for (const ms of workMs > 0 ? [0, workMs] : [0]) {
            const tag = ms ? `${label}, paced` : label;
            const run = await scaleRun(
              input,
              `${output}${++runs}`,
              fakes,
              Number(values.procs),
              root,
              extra,
              await fakeBatch(root, values["fake-batch"]),
              ms,
            );
            console.log(row(tag, run));
            rates.set(tag, [...rates.get(tag) ?? [], run.tasksPerSecond]);
            shares.set(tag, [...shares.get(tag) ?? [], run.minShare, run.maxShare]);
          }
          if (values.floor && root === SOURCE_ROOT) {
            // The ceiling the file system sets, same folder, same round: the file calls alone.
            const floor = fileFloor(input, `${output}${++runs}`);
            const tag = `${label} (files alone)`;
            console.log(
              `${tag.padEnd(30)} ${"".padStart(12)} ${floor.perSecond.toFixed(0).padStart(8)} ${
                "".padStart(32)
              } ${floor.cpuMicros.toFixed(0).padStart(7)}`,
            );
            rates.set(tag, [...rates.get(tag) ?? [], floor.perSecond]);
          }
        }
      }
      for (const [label, xs] of rates) {
        console.log(
          `${label}: tasks/s median ${median(xs).toFixed(0)}, range ${Math.min(...xs).toFixed(0)}-${
            Math.max(...xs).toFixed(0)
          }${
            shares.has(label)
              ? `, shares ${Math.min(...shares.get(label)!).toFixed(2)}-${
                Math.max(...shares.get(label)!).toFixed(2)
              }`
              : ""
          }`,
        );
      }
      console.log(`load after: ${uptime()}`);
    }
    if (values.real || both) await realRows(input, rows, Number(values.workers), values, extra);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    if (shm) await Deno.remove(shm, { recursive: true }).catch(() => {});
  }
}

/** `--real`: real local workers on the same images, a row a folder (and checkout) a round. */
async function realRows(
  input: string,
  rows: [string, string, string][],
  workers: number,
  values: { repeat: string },
  extra: string[],
): Promise<void> {
  console.log(
    `\nreal: parallel --workers ${workers} --size 16 16 ${extra.join(" ")}, load ${uptime()}`,
  );
  console.log(
    "(not on /dev/shm, which no worker's scoped flags reach: TMPDIR=/a/tmpfs for a tmpfs row)",
  );
  console.log(`${"folder".padEnd(24)} tasks/s a worker   wall    cpu`);
  const rates = new Map<string, number[]>();
  let runs = 0; // a fresh output folder each run (see scaleRun)
  for (let round = 0; round < Number(values.repeat); round++) {
    for (const [label, output, root] of rows) {
      // A local worker's --allow-write names its output folder, and Deno grants /dev to -A alone.
      if (output.startsWith("/dev/")) continue;
      const run = await realRun(input, `${output}-real${++runs}`, workers, root, extra);
      console.log(
        `${label.padEnd(24)} ${run.perWorker.toFixed(0).padStart(16)} ${
          run.wall.toFixed(2).padStart(6)
        } ${run.cpu.toFixed(2).padStart(6)}`,
      );
      rates.set(label, [...rates.get(label) ?? [], run.perWorker]);
    }
  }
  for (const [label, xs] of rates) {
    console.log(
      `${label}: tasks/s a worker median ${median(xs).toFixed(0)}, range ${
        Math.min(...xs).toFixed(0)
      }-${Math.max(...xs).toFixed(0)}`,
    );
  }
  console.log(`load after: ${uptime()}`);
}

if (import.meta.main) {
  if (Deno.args[0] === "--farm") {
    const [endpoint, batch, workMs, ...ids] = Deno.args.slice(1);
    const jpeg = await tinyJpeg();
    const stats = await runFarm(endpoint, ids, jpeg, HEARTBEAT_MS, Number(batch), Number(workMs));
    stats.cpu = processCpu();
    console.log(JSON.stringify(stats));
    Deno.exit(0);
  } else await scaleBench(Deno.args);
}

/**
 * Helpers of the reliability tests: a zpix run whose stderr is read line by
 * line as it comes (to time reactions to faults), sample inputs, and checks
 * that nothing is left behind.
 *
 * @module
 */

import { join } from "node:path";
import { encodeImage } from "../ops/codec.ts";
import { sampleImage } from "../ops/samples.ts";
import { FAULT_ENV } from "../worker/fault.ts";
import type { Report } from "../report/report.ts";
import { sleep, withTempDir, ZPIX_FLAGS } from "./helpers.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { TEMP_MARKER } from "../core/atomic.ts";
import type { Format } from "../ops/formats.ts";

/** One stderr line and when it arrived (performance.now()). */
export interface Line {
  /** Arrival time, ms. */
  t: number;
  /** The line. */
  text: string;
}

/** A zpix process being watched. */
export interface LiveRun {
  /** Its pid (also its process group with `setsid`). */
  pid: number;
  /** Stderr lines so far. */
  lines: Line[];
  /** The first line (already seen or to come) matching `pattern`, within `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<Line>;
  /** Resolves at exit. */
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts `main.ts ARGS` with the flags of `deno task parallel`, plus read
 * access to `ZPIX_FAULT` so `faults` (see worker/fault.ts) reach the
 * workers. With `setsid`, zpix leads its own process group (like a shell
 * job), so a signal to `-pid` is what Ctrl-C sends. `env` and `sys` add
 * to those permissions (e.g. `ZPIX_TOKEN` and `hostname` for serve and
 * remote workers). `tmpdir` is the run's `TMPDIR` (where it makes its ipc
 * folder), so that no other run on the machine sweeps there.
 */
export function startRun(
  args: string[],
  options: {
    faults?: string;
    setsid?: boolean;
    env?: string[];
    sys?: string[];
    tmpdir?: string;
  } = {},
): LiveRun {
  const flags = ZPIX_FLAGS.map((flag) =>
    flag.startsWith("--allow-env=")
      ? [flag, FAULT_ENV, ...options.env ?? []].join(",")
      : flag.startsWith("--allow-sys=")
      ? [flag, ...options.sys ?? []].join(",")
      : flag
  );
  const deno = ["run", "--quiet", ...flags, join(SOURCE_ROOT, "main.ts"), ...args];
  const env: Record<string, string> = options.faults ? { [FAULT_ENV]: options.faults } : {};
  if (options.tmpdir) env.TMPDIR = options.tmpdir;
  const child = new Deno.Command(options.setsid ? "setsid" : Deno.execPath(), {
    args: options.setsid ? [Deno.execPath(), ...deno] : deno,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: Line[] = [];
  const waiters: { pattern: RegExp; resolve: (line: Line) => void }[] = [];
  const readErr = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const text of parts) {
        const line = { t: performance.now(), text };
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(text)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    }
    if (rest) lines.push({ t: performance.now(), text: rest });
  })();
  const stdout = new Response(child.stdout).text();
  const done = (async () => {
    const status = await child.status;
    await readErr;
    return {
      code: status.code,
      stdout: await stdout,
      stderr: lines.map((l) => l.text).join("\n"),
    };
  })();
  const waitFor = (pattern: RegExp, ms = 30_000) => {
    const seen = lines.find((line) => pattern.test(line.text));
    if (seen) return Promise.resolve(seen);
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      new Promise<Line>((resolve) => waiters.push({ pattern, resolve })),
      done.then(() => {
        throw new Error(
          `zpix exited without printing ${pattern}:\n${lines.map((l) => l.text).join("\n")}`,
        );
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`no ${pattern} within ${ms} ms:\n${lines.map((l) => l.text).join("\n")}`),
            ),
          ms,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  };
  return { pid: child.pid, lines, waitFor, done };
}

/** Writes small sample images (JPEG or PNG by extension) named `names` into `dir`. */
export async function writeImages(
  dir: string,
  names: string[],
  width = 64,
  height = 48,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [i, name] of names.entries()) {
    const format: Format = name.endsWith(".png") ? "png" : "jpeg";
    const bytes = await encodeImage(sampleImage(width, height, i + 1), format, { quality: 85 });
    await Deno.writeFile(join(dir, name), bytes);
  }
}

/** Reads a JSON report. */
export async function readReport(path: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(path));
}

/** Every path under `dir` (relative, sorted), files and folders. */
export async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory) out.push(...await listTree(dir, rel));
  }
  return out.sort();
}

/** Paths under `dir` that are zpix temporary files. */
export async function temporaries(dir: string): Promise<string[]> {
  return (await listTree(dir)).filter((path) => path.includes(TEMP_MARKER));
}

/** Polls `condition` every 50 ms until it holds; throws after `ms`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<number> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
  return performance.now() - start;
}

/** Whether every one of `names` exists in `dir`. */
export async function allExist(dir: string, names: string[]): Promise<boolean> {
  for (const name of names) {
    try {
      await Deno.lstat(join(dir, name));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Pids of the processes (but this one) whose command line contains `text`,
 * from `ps` (Deno lets only --allow-all read /proc; tests get the flags of
 * `deno task test`). With `worker`, only `main.ts worker` processes.
 */
export function processesWith(text: string, worker = false): number[] {
  const out = new Deno.Command("ps", { args: ["-eo", "pid=,args="], stdout: "piped" }).outputSync();
  const pids: number[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const [, pid, args] = /^\s*(\d+)\s(.*)$/.exec(line) ?? [];
    if (!pid || Number(pid) === Deno.pid || !args.includes(text)) continue;
    if (!worker || / worker --connect /.test(args)) pids.push(Number(pid));
  }
  return pids;
}

/** Pids of the local workers of a run whose input folder is `input`. */
export function workerPids(input: string): number[] {
  return processesWith(input, true);
}

/** Waits until no process mentions `text` on its command line (the run left nothing behind). */
export async function noProcessesLeft(text: string, ms = 10_000): Promise<void> {
  await waitUntil(
    () => processesWith(text).length === 0,
    ms,
    `processes left: ${processesWith(text).join(", ")}`,
  );
}

/**
 * Runs `fn` with a fresh temporary folder; afterwards, even when `fn` failed,
 * SIGKILLs every process still mentioning that folder (a zpix server or its
 * workers a failed assertion left behind), then removes the folder.
 */
export function withRunDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    try {
      return await fn(dir);
    } finally {
      for (const pid of processesWith(dir)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
    }
  });
}

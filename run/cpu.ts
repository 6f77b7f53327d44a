/**
 * CPU use per core, sampled during a run from `node:os` `cpus()` (needs
 * `--allow-sys=cpus`; Deno 2.9 reads `/proc/stat` for it), else from
 * `/proc/stat` directly (which Deno only allows under `--allow-all`). Without
 * either, sampling quietly records nothing. That is the whole machine's
 * use, every program's; beside it each sample holds this process's own CPU
 * time over the interval (`core/runtime.ts` `cpuMs`: getrusage, all
 * threads, no permission needed).
 *
 * @module
 */

import { cpus } from "node:os";
import { CPU_POINT_SECONDS, type CpuSample } from "../core/results.ts";
import { cpuMs } from "../core/runtime.ts";

/** Parses `/proc/stat`'s per-core lines into [busy, total] jiffies. */
export function parseProcStat(text: string): [number, number][] {
  const cores: [number, number][] = [];
  for (const line of text.split("\n")) {
    const match = /^cpu\d+\s+(.*)$/.exec(line);
    if (!match) continue;
    const fields = match[1].trim().split(/\s+/).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    cores.push([total - idle, total]);
  }
  return cores;
}

/**
 * Per-core [busy, total] CPU times now, or null when this process may not
 * read them (no `--allow-sys=cpus`, no `/proc/stat`).
 */
export function readCpuTimes(): [number, number][] | null {
  const sys = Deno.permissions.querySync({ name: "sys", kind: "cpus" }).state;
  if (sys === "granted") {
    try {
      return cpus().map(({ times }) => {
        const busy = times.user + times.nice + times.sys + times.irq;
        return [busy, busy + times.idle];
      });
    } catch {
      // fall through to /proc/stat
    }
  }
  try {
    return parseProcStat(Deno.readTextFileSync("/proc/stat"));
  } catch {
    return null;
  }
}

/** This process's CPU time so far (user + system, all threads), in seconds. */
export function processCpuSeconds(): number {
  return (cpuMs() ?? 0) / 1000;
}

/** Samples CPU use at a fixed interval until stopped. */
export class CpuSampler {
  readonly samples: CpuSample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #last: [number, number][] | null = null;
  #lastOwn = 0;
  #start = 0;

  #read(): [number, number][] | null {
    return readCpuTimes();
  }

  /** Starts sampling every `intervalMs`. */
  start(intervalMs = 250): void {
    this.#start = performance.now();
    this.#last = this.#read();
    this.#lastOwn = processCpuSeconds();
    if (!this.#last) return;
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    const now = this.#read();
    if (!now || !this.#last) return;
    const cores = now.map(([busy, total], i) => {
      const [busy0, total0] = this.#last![i] ?? [busy, total];
      return total > total0 ? Math.round(((busy - busy0) / (total - total0)) * 1000) / 1000 : 0;
    });
    this.#last = now;
    const own = processCpuSeconds();
    this.samples.push({
      t: Math.round(performance.now() - this.#start) / 1000,
      cores,
      server: Math.round((own - this.#lastOwn) * 1e4) / 1e4,
    });
    this.#lastOwn = own;
  }

  /** Stops sampling, taking a last sample. */
  stop(): CpuSample[] {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#sample();
    }
    return this.samples;
  }
}

/**
 * The process CPU time each worker reports with its results, as points for
 * the report (`WorkerReport.cpuTime`: [s since the start, cumulative CPU
 * s]), thinned to one per {@link CPU_POINT_SECONDS}.
 */
export class WorkerCpuTimes {
  readonly #points = new Map<string, [number, number][]>();

  /** Notes worker `id`'s cumulative CPU `ms` (if it sent one) at `seconds` since the start. */
  note(id: string, ms: number | undefined, seconds: number): void {
    if (ms === undefined) return;
    const points = this.#points.get(id) ?? [];
    this.#points.set(id, points);
    const point: [number, number] = [Math.round(seconds * 1000) / 1000, ms / 1000];
    // The last point is replaced until the next is CPU_POINT_SECONDS later.
    if (points.length > 1 && point[0] - points[points.length - 2][0] < CPU_POINT_SECONDS) {
      points[points.length - 1] = point;
    } else points.push(point);
  }

  /** Worker `id`'s points, or undefined when it sent none. */
  of(id: string): [number, number][] | undefined {
    return this.#points.get(id);
  }
}

/**
 * A synthetic report of a big parallel run, for the report page's tests:
 * `tasks` images over `workers` workers, with what a real run shows (each
 * worker's slow first tasks, a few stragglers and failures, a worker lost
 * mid-task, an idle gap, a busy machine), built in memory, deterministic.
 */

import { parseJob } from "../cli/args.ts";
import type { Report, WorkerReport } from "../report/report.ts";
import type { Span } from "../core/results.ts";

/** The input path of task `i`. */
export const syntheticPath = (i: number) => `photos/2024/IMG_${String(i).padStart(5, "0")}.jpg`;

/** Builds the report (see the module note). */
export function syntheticReport(tasks = 20_000, workers = 8): Report {
  const parsed = parseJob(
    "parallel",
    ["-i", "/data/in", "-o", "/data/out", "--workers", String(workers)],
    "/",
  );
  if (parsed.kind !== "job") throw new Error("expected a job");
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows: WorkerReport[] = Array.from({ length: workers }, (_, w) => ({
    id: `w${w + 1}`,
    pid: 1000 + w,
    host: "local",
    processed: 0,
    failed: 0,
    busySeconds: 0,
    idleSeconds: 0,
    spans: [],
  }));
  const free = rows.map((_, w) => 150 + 20 * w); // ms when each worker next takes a task
  const held = rows.map(() => 0);
  const failed: Report["failed"] = [];
  const done: number[] = [];
  for (let task = 0; task < tasks; task++) {
    const w = free.indexOf(Math.min(...free));
    const row = rows[w];
    let start = free[w];
    // w3 waits 5 s (an idle gap) at 20 s.
    if (w === 2 && start > 20_000 && start < 25_000) start = 25_000;
    const warm = [320, 160, 95][held[w]] ?? 0;
    const straggler = task % 997 === 500;
    const duration = warm || (straggler ? 260 : 16 + Math.round(random() * 14));
    const end = start + duration;
    const lost = w === 4 && held[w] === 1200;
    const ok = lost ? null : task % 1009 !== 700;
    const span: Span = { task, start, end, ok, input: syntheticPath(task) };
    row.spans.push(span);
    held[w]++;
    free[w] = end + 1 + (lost ? 2000 : 0);
    row.busySeconds += duration / 1000;
    if (lost) continue; // its task goes to another worker: not counted here
    if (ok) row.processed++;
    else {
      row.failed++;
      failed.push({
        path: syntheticPath(task),
        error: "not a JPEG, PNG, WebP, AVIF, HEIC or GIF file",
      });
    }
    done.push(end);
  }
  const seconds = Math.max(...done) / 1000;
  for (const row of rows) {
    row.busySeconds = Math.round(row.busySeconds * 1000) / 1000;
    row.idleSeconds = Math.round((seconds - row.busySeconds) * 1000) / 1000;
    row.cpuTime = [];
    for (let t = 0.25; t <= seconds + 0.25; t += 0.25) {
      row.cpuTime.push([Math.round(t * 100) / 100, Math.round((0.4 + 0.9 * t) * 1000) / 1000]);
    }
  }
  done.sort((a, b) => a - b);
  const progress: [number, number][] = [];
  for (let t = 0.25, i = 0; i < done.length; t += 0.25) {
    while (i < done.length && done[i] <= t * 1000) i++;
    progress.push([Math.round(Math.min(t, seconds) * 1000) / 1000, i]);
  }
  const processed = tasks - failed.length;
  return {
    mode: "parallel",
    total: tasks,
    processed,
    skipped: 0,
    failed,
    warnings: [],
    seconds,
    imagesPerSecond: Math.round((processed / seconds) * 100) / 100,
    workers: rows,
    stages: {
      read: 0.5,
      decode: 11,
      ops: 3,
      steps: { "resize=512x512": 3 },
      encode: 6,
      write: 1,
      overhead: 1.5,
    },
    pipeline: ["resize=512x512"],
    job: parsed.job,
    startedAt: "2026-11-30T01:00:00.000Z",
    interrupted: false,
    progress,
    cpu: Array.from({ length: Math.ceil(seconds * 4) }, (_, k) => ({
      t: (k + 1) / 4,
      cores: Array.from(
        { length: workers },
        () => Math.round((0.96 + random() * 0.04) * 1000) / 1000,
      ),
      server: 0.02,
    })),
  };
}

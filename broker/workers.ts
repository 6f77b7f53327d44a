/**
 * How the broker judges and ends its workers' lives: how long a worker may
 * stay silent before it is taken for lost, and how every local worker is
 * made to exit when a run ends.
 *
 * @module
 */

import { encodeBroadcast } from "../transport/protocol.ts";
import { type Outbox } from "../transport/socket_io.ts";
import type { Connections } from "../transport/monitor.ts";
import { waitReadable } from "../transport/zmq.ts";
import type { LocalWorker } from "./pool.ts";
import type { WorkerState } from "./scheduler.ts";
import { join } from "node:path";
import type { Job, Task } from "../core/job.ts";
import type { ModeResult } from "../run/run.ts";

/** A worker silent this long (no message, no heartbeat) is taken as lost. */
export const SILENCE_MS = 2500;

/** Why a worker that said `leave` is gone (not a fault: not warned about). */
export const LEFT = "worker left";

/**
 * Extra silence allowed to a remote worker holding a task, per pixel of its
 * image: a worker sends heartbeats only between the synchronous WASM stages,
 * and decoding a 24-megapixel JPEG blocks for ~3 s on a loaded core. At
 * 250 ns a pixel, a usual photo (0.2 MP) adds 0.05 s to {@link SILENCE_MS}
 * (a dead worker is still seen in ~2.5 s) and 24 MP adds 6 s.
 */
export const BUSY_SILENCE_MS_PER_PIXEL = 250e-6;

/** Silence allowed to a remote worker holding an image of `pixels` pixels. */
export function busySilenceMs(pixels: number): number {
  return SILENCE_MS + pixels * BUSY_SILENCE_MS_PER_PIXEL;
}

/**
 * How long the broker blocks waiting for the next message after one (see
 * `receiveAll`): with busy workers a result is rarely further away, and the
 * kernel then wakes the broker directly (~1 ms a task less than waking it
 * through a helper thread on a loaded 2-core machine). 50, not 5: batching
 * workers answer every few tasks, ~15 ms apart with 2 workers on photos, so
 * a 5 ms linger mostly ran out and 1-3 helper-thread waits (~0.25 ms of
 * CPU each) followed every message; 1,000 photos, 2 workers: the server's
 * message loop 136-202 -> 101-124 ms of CPU (docs/performance.md). Timers
 * and signals wait at most this long for their turn.
 */
export const BROKER_LINGER_MS = 50;

/** How long workers have to join before the run gives up on them. */
export const START_TIMEOUT_MS = 20_000;

/** How long workers have to exit after `quit` before they are killed. */
export const EXIT_GRACE_MS = 5000;

/** A worker that joined, as the broker tracks it. */
export interface Peer {
  id: string;
  local: boolean;
  pid: number | null;
  host: string | null;
  lastSeen: number;
  /** Tasks done, for --max-tasks-per-worker. */
  count: number;
}

/** Kills a local worker (if any) with SIGKILL; one that already exited is left alone. */
export function killWorker(worker: LocalWorker | undefined): void {
  try {
    worker?.process.kill("SIGKILL");
  } catch {
    // already exited
  }
}

/**
 * Broadcasts quit until every local worker has exited; kills those still there after the grace
 * period. With `subscribers` (remote workers), says the last quit a few times, until no
 * subscriber is left.
 */
export async function shutdown(
  locals: Map<string, LocalWorker>,
  pub: Outbox,
  subscribers: Connections | null,
): Promise<void> {
  const deadline = performance.now() + EXIT_GRACE_MS;
  while (locals.size > 0 && performance.now() < deadline) {
    await pub.send(encodeBroadcast({ type: "quit" }));
    await Promise.race([
      Promise.all([...locals.values()].map((w) => w.status)),
      new Promise((resolve) => setTimeout(resolve, 100)),
    ]);
  }
  for (const worker of locals.values()) killWorker(worker);
  await Promise.all([...locals.values()].map((w) => w.status));
  // Remote workers hear the quit too. The PUB socket is closed with linger 0 right after and the
  // process ends, so a single quit can be dropped before it leaves (a remote worker would then
  // wait out its --server-timeout): say it a few times, giving ZeroMQ's I/O thread time to send,
  // but only while a worker's connection is still open: each closes it as it hears the quit (the
  // fixed gaps kept every serve run 90 ms longer than its workers, docs/performance.md).
  for (let i = 0; i < (subscribers ? REMOTE_QUITS : 1); i++) {
    await pub.send(encodeBroadcast({ type: "quit" }));
    if (subscribers && await allGone(subscribers, REMOTE_QUIT_GAP_MS)) return;
  }
}

/** How many times, and at most how far apart in ms, a `serve` run's last quit is broadcast. */
const REMOTE_QUITS = 3, REMOTE_QUIT_GAP_MS = 30;

/** Whether every connection of `subscribers` closed within `ms` (waiting until then). */
async function allGone(subscribers: Connections, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (subscribers.open() <= 0) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await waitReadable(subscribers.monitor, Math.ceil(left));
  }
}

/** Per-worker lines for the report (named by `describe`), and the time workers held tasks. */
export function modeResult(
  states: WorkerState[],
  end: number,
  describe: (id: string) => { id: string; pid: number | null; host: string | null },
  inputOf: (task: number) => string | undefined = () => undefined,
  cpuTimeOf: (id: string) => [number, number][] | undefined = () => undefined,
): ModeResult {
  const workers: ModeResult["workers"] = states.map((w) => {
    const present = (w.left ?? end) - w.joined;
    const cpuTime = cpuTimeOf(w.id);
    return {
      ...describe(w.id),
      processed: w.processed,
      failed: w.failed,
      busySeconds: Math.round(w.busyMs) / 1000,
      idleSeconds: Math.round(Math.max(0, present - w.busyMs)) / 1000,
      spans: w.spans.map((s) => ({
        ...s,
        start: Math.round(s.start),
        end: Math.round(s.end),
        input: inputOf(s.task),
      })),
      ...(cpuTime ? { cpuTime } : {}),
    };
  });
  return { workers, workerMs: states.reduce((sum, w) => sum + w.busyMs, 0) };
}

/**
 * Whether a local worker wrote each task's output in the last `withinMs`
 * (since the run began; file times lag the clock by up to a tick, so one
 * second more is allowed): one that died after writing it had finished that
 * task, and died on the next (`Scheduler.blamed`). Each task's file is looked
 * at once: `Scheduler.blamed` (the log line) and `Scheduler.lost` (the
 * requeue) ask in turn and must get the same answer.
 */
export function outputsWritten(
  job: Pick<Job, "output">,
  taskOf: (index: number) => Task,
  withinMs: number,
): (index: number) => boolean {
  const known = new Map<number, boolean>();
  return (index) => {
    let written = known.get(index);
    if (written === undefined) {
      written = wroteLately(join(job.output, taskOf(index).output), withinMs);
      known.set(index, written);
    }
    return written;
  };
}

function wroteLately(path: string, withinMs: number): boolean {
  try {
    const mtime = Deno.statSync(path).mtime?.getTime() ?? 0;
    return mtime >= Date.now() - withinMs - 1000;
  } catch {
    return false; // not there (or not readable): not known to be finished
  }
}

/**
 * The ZeroMQ broker: binds a ROUTER (tasks) and a PUB (broadcasts), starts
 * local workers (and, in `serve` mode, accepts remote ones), feeds the
 * {@link Scheduler} with what the sockets and processes say, and tears
 * everything down when every result is in.
 *
 * @module
 */

import * as zmq from "../transport/zmq.ts";
import { join } from "node:path";
import { HEARTBEAT_MS } from "../transport/protocol.ts";
import {
  broadcastEndpoint,
  decodeWorkerMessage,
  encodeBroadcast,
  encodeMessage,
  Outbox,
  receiveAll,
  type ServerMessage,
  SOCKET_OPTIONS,
} from "../transport/protocol.ts";
import { Scheduler } from "./scheduler.ts";
import { serverCurve } from "../transport/curve.ts";
import { describeExit, type EarlyPool, type LocalWorker, spawnWorker } from "./pool.ts";
import type { ModeResult, Recorder } from "../run/run.ts";
import { describeWriteError } from "../task/task.ts";
import { RunError } from "../core/errors.ts";
import type { Job, Task } from "../core/job.ts";
import { writeAtomic } from "../core/atomic.ts";
import { readDimensions } from "../ops/formats.ts";

/** A worker silent this long (no message, no heartbeat) is taken as lost. */
export const SILENCE_MS = 2500;

/** Why a worker that said `leave` is gone (not a fault: not warned about). */
const LEFT = "worker left";

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
 * through a helper thread on a loaded 2-core machine).
 */
export const BROKER_LINGER_MS = 5;

/** How long workers have to join before the run gives up on them. */
export const START_TIMEOUT_MS = 20_000;

/** How long workers have to exit after `quit` before they are killed. */
export const EXIT_GRACE_MS = 5000;

interface Peer {
  id: string;
  local: boolean;
  pid: number | null;
  host: string | null;
  lastSeen: number;
  /** Tasks done, for --max-tasks-per-worker. */
  count: number;
}

/** Runs the tasks on ZeroMQ workers (the `parallel` and `serve` modes). */
export async function runParallel(
  job: Job,
  tasks: Task[],
  recorder: Recorder,
  signal: AbortSignal,
  pool?: EarlyPool,
): Promise<ModeResult> {
  const log = recorder.log;
  const privateDir = pool?.privateDir ??
    (job.bind ? null : await Deno.makeTempDir({ prefix: "zpix-" }));
  const endpoint = pool?.endpoint ?? job.bind ?? `ipc://${privateDir}/tasks`;
  const curve = await serverCurve(job.curveSecret).catch((error) => {
    throw new RunError((error as Error).message);
  });
  const router = new zmq.Router({
    ...SOCKET_OPTIONS,
    receiveHighWaterMark: 1000,
    ...curve.options,
  });
  const publisher = new zmq.Publisher({ ...SOCKET_OPTIONS, ...curve.options });
  try {
    await router.bind(endpoint);
    await publisher.bind(broadcastEndpoint(endpoint));
  } catch (error) {
    router.close();
    publisher.close();
    if (privateDir) {
      await Deno.remove(privateDir, { recursive: true }).catch(() => {});
    }
    throw new RunError(`cannot bind ${endpoint}: ${(error as Error).message}`);
  }
  if (job.bind) {
    log.info(
      `listening for workers on ${endpoint} (broadcasts on ${broadcastEndpoint(endpoint)}${
        curve.publicKey ? "; CURVE-encrypted" : ""
      })`,
    );
  }

  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const byIndex = new Map<number, Task>(
    tasks.map((task) => [task.index, task]),
  );
  const peers = new Map<string, Peer>();
  // Remote tasks handed out and not answered: each holds an image payload (the send window).
  const payloadsInFlight = (): number =>
    [...peers.values()].reduce(
      (sum, p) => sum + (p.local ? 0 : scheduler.worker(p.id)?.held.length ?? 0),
      0,
    );
  // At most this many payloads (read, sent, not answered), whatever the number of workers.
  const payloadWindow = job.payloadWindow;
  let payloadsPeak = 0;
  const seen = new Map<string, { pid: number; host: string }>();
  const scheduler = new Scheduler(
    tasks.map((task) => task.index),
    job.maxAttempts,
    (id) => peers.get(id)?.local !== false || payloadsInFlight() < payloadWindow,
    job.prefetch,
  );
  const outbox = new Outbox(
    router,
    (error) => log.debug(`send failed: ${(error as Error).message}`),
  );
  const pubOutbox = new Outbox(publisher);
  const locals = new Map<string, LocalWorker>();
  let nextLocal = 1;
  let finished = false;
  let fatal: RunError | null = null;
  let joinedOnce = false;
  let earlyExits = 0;

  const sendTo = (id: string, message: ServerMessage, payload?: Uint8Array) =>
    outbox.send([
      new TextEncoder().encode(id),
      ...encodeMessage(message, payload),
    ]);

  const startLocal = () => {
    const id = `w${nextLocal++}`;
    adopt(spawnWorker(
      { ...job, curveServerKey: curve.publicKey },
      endpoint,
      id,
      (line) => log.warn(`${id}: ${line}`),
      job.maxTasksPerWorker,
    ));
  };

  /** Watches a started local worker: a replacement is started when it dies early. */
  const adopt = (worker: LocalWorker) => {
    const id = worker.id;
    locals.set(id, worker);
    worker.status.then((status) => {
      locals.delete(id);
      if (finished) return;
      lose(id, describeExit(status));
      // Workers that die before joining, at the start or (replacements) over and over: give up.
      earlyExits = seen.has(id) ? 0 : earlyExits + 1;
      if (!seen.has(id) && (!joinedOnce ? status.code !== 0 : earlyExits > job.workers + 3)) {
        fatal ??= new RunError(
          `worker ${id} exited before joining (${describeExit(status)})${
            worker.stderr.length ? ": " + worker.stderr.at(-1) : ""
          }`,
        );
      }
      if (!scheduler.done && !signal.aborted && !fatal) startLocal();
    });
  };

  const killLocal = (id: string) => {
    try {
      locals.get(id)?.process.kill("SIGKILL");
    } catch {
      // already exited
    }
  };

  const lose = (id: string, reason: string) => {
    const present = scheduler.worker(id) !== undefined;
    const task = scheduler.worker(id)?.task ?? null;
    const failed = scheduler.lost(id, now(), reason);
    if (task !== null) {
      log.warn(`${id} lost (${reason}) while on ${byIndex.get(task)!.input}`);
    } else if (present && reason !== LEFT) {
      log.warn(`${id} lost (${reason})`);
    }
    for (const index of failed) {
      const end = scheduler.ended.get(index)!;
      recorder.record(
        byIndex.get(index)!,
        end.ok ? { ok: false, error: "?" } : { ok: false, error: end.error },
      );
    }
    peers.delete(id);
    void dispatch();
  };

  /** Pixels of the image each remote worker holds (its silence allowance). */
  const taskPixels = new Map<string, number>();

  const sendTask = async (id: string, taskIndex: number, attempt: number) => {
    const task = byIndex.get(taskIndex)!;
    const peer = peers.get(id)!;
    if (peer.local) {
      await sendTo(id, {
        type: "task",
        task: taskIndex,
        attempt,
        name: task.input,
        input: join(job.input, task.input),
        output: join(job.output, task.output),
      });
      return;
    }
    payloadsPeak = Math.max(payloadsPeak, payloadsInFlight());
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(job.input, task.input));
    } catch (error) {
      // Reading is the server's part of a remote task: its failure is this image's failure.
      if (
        scheduler.result(id, taskIndex, {
          ok: false,
          error: (error as Error).message,
        }, now())
      ) {
        recorder.record(task, {
          ok: false,
          error: `cannot read ${task.input}: ${(error as Error).message}`,
        });
      }
      const next = scheduler.ready(id, now());
      if (next) await sendTask(id, next.task, next.attempt);
      return;
    }
    const size = readDimensions(bytes);
    taskPixels.set(id, size ? size.width * size.height : 0);
    await sendTo(id, {
      type: "task",
      task: taskIndex,
      attempt,
      name: task.input,
      input: null,
      output: null,
    }, bytes);
  };

  const dispatch = async () => {
    for (const assignment of scheduler.dispatch(now())) {
      await sendTask(assignment.worker, assignment.task, assignment.attempt);
    }
  };

  if (pool) {
    // Started before ZeroMQ was loaded (see EarlyPool): adopt them.
    pool.workers.forEach(adopt);
    nextLocal += pool.workers.length;
  } else {
    for (let i = 0; i < job.workers; i++) startLocal();
  }
  if (job.workers === 0) {
    log.info(`no local worker: waiting for workers to connect (Ctrl-C to stop)`);
  }

  // Heartbeats, silence, timeouts, start-up deadline.
  const ticker = setInterval(() => {
    void pubOutbox.send(encodeBroadcast({ type: "heartbeat" }));
    const t = now();
    for (const peer of [...peers.values()]) {
      const busy = scheduler.worker(peer.id)?.task !== null;
      // A busy local worker is left to --task-timeout; a busy remote one gets longer.
      if (busy && peer.local && locals.has(peer.id)) continue;
      const limit = busy ? busySilenceMs(taskPixels.get(peer.id) ?? 0) : SILENCE_MS;
      if (t - peer.lastSeen > limit) {
        lose(peer.id, `worker silent for ${(limit / 1000).toFixed(1)}s`);
        // A local worker given up on is killed, so that it is replaced.
        killLocal(peer.id);
      }
    }
    for (const state of scheduler.overdue(t, job.taskTimeout * 1000)) {
      lose(state.id, `task took longer than --task-timeout ${job.taskTimeout}s`);
      killLocal(state.id);
    }
    if (!joinedOnce && job.workers > 0 && t > START_TIMEOUT_MS) {
      fatal ??= new RunError(
        `no worker joined within ${START_TIMEOUT_MS / 1000}s` +
          ([...locals.values()].flatMap((w) => w.stderr).at(-1)
            ? `: ${[...locals.values()].flatMap((w) => w.stderr).at(-1)}`
            : ""),
      );
    }
    if (fatal || signal.aborted) router.close();
  }, HEARTBEAT_MS / 2);

  const onAbort = () => router.close();
  signal.addEventListener("abort", onAbort);

  try {
    for await (const [identity, ...frames] of receiveAll(router, BROKER_LINGER_MS)) {
      const id = new TextDecoder().decode(identity);
      let decoded;
      try {
        decoded = decodeWorkerMessage(frames as Uint8Array[]);
      } catch (error) {
        log.warn(
          `ignoring a bad message from ${id}: ${(error as Error).message}`,
        );
        if (/protocol version/.test((error as Error).message)) {
          await sendTo(id, {
            type: "refused",
            reason: (error as Error).message,
          });
        }
        continue;
      }
      const { message, payload } = decoded;
      let peer = peers.get(id);
      const back = !peer && message.type !== "join" && seen.has(id) && !locals.has(id);
      if (back) {
        // A remote worker taken for lost (silent through a long stage) speaks again: take it
        // back. Its late result is stale; the task it may still hold was requeued.
        log.warn(`${id} is back after being taken for lost`);
        peer = { id, local: false, ...seen.get(id)!, lastSeen: now(), count: 0 };
        peers.set(id, peer);
        scheduler.join(id, now());
      }
      if (peer) peer.lastSeen = now();
      switch (message.type) {
        case "join": {
          if (job.token !== null && message.token !== job.token) {
            log.warn(
              `refused worker ${id} from ${message.host}: wrong or missing token`,
            );
            await sendTo(id, {
              type: "refused",
              reason: "wrong or missing token (--token / ZPIX_TOKEN)",
            });
            break;
          }
          if (peer) {
            // A join repeated while the first was on its way: answer it again, change nothing.
            await sendTo(id, { type: "hello", worker: id, pipeline: job.pipeline });
            break;
          }
          // Only workers this server started may read and write its folders directly.
          const local = message.local && locals.has(id);
          peers.set(id, {
            id,
            local,
            pid: message.pid,
            host: message.host,
            lastSeen: now(),
            count: 0,
          });
          seen.set(id, { pid: message.pid, host: message.host });
          scheduler.join(id, now());
          joinedOnce = true;
          log.debug(
            `worker ${id} joined (pid ${message.pid} on ${message.host}${local ? "" : ", remote"})`,
          );
          await sendTo(id, {
            type: "hello",
            worker: id,
            pipeline: job.pipeline,
          });
          break;
        }
        case "ready": {
          if (!peer) break;
          const ahead = message.finishing !== undefined &&
            scheduler.worker(id)?.task === message.finishing;
          const assignment = scheduler.ready(id, now(), ahead);
          if (assignment) {
            await sendTask(id, assignment.task, assignment.attempt);
          }
          if (job.prefetch) await dispatch();
          break;
        }
        case "result": {
          if (!peer) break;
          const task = byIndex.get(message.task);
          if (!task) break;
          let end: { ok: true } | { ok: false; error: string } = message.ok
            ? { ok: true }
            : { ok: false, error: message.error };
          if (message.ok && !peer.local) {
            // Remote result: the server writes the file.
            try {
              if (!payload) throw new Error("result carried no image bytes");
              writeAtomic(join(job.output, task.output), payload);
            } catch (error) {
              end = {
                ok: false,
                error: describeWriteError(error, task.output),
              };
            }
          }
          const counted = scheduler.result(id, message.task, end, now());
          // The worker is waiting: its next task goes out before the bookkeeping.
          if (message.more && !scheduler.done) {
            const assignment = scheduler.ready(id, now());
            if (assignment) {
              await sendTask(id, assignment.task, assignment.attempt);
            }
          }
          if (counted) {
            peer.count++;
            recorder.record(
              task,
              message.ok && end.ok ? message : { ok: false, error: end.ok ? "" : end.error },
            );
          }
          if (scheduler.done) break;
          await dispatch();
          break;
        }
        case "leave":
          if (peer) lose(id, LEFT);
          break;
        case "heartbeat":
          if (back) {
            // Idle or not, it takes a task (a busy DEALER queues it behind the current one).
            const assignment = scheduler.ready(id, now());
            if (assignment) await sendTask(id, assignment.task, assignment.attempt);
          }
          break;
      }
      if (scheduler.done) break;
    }
  } catch (error) {
    if (!fatal && !signal.aborted) throw error;
  } finally {
    finished = true;
    clearInterval(ticker);
    signal.removeEventListener("abort", onAbort);
    await shutdown(locals, pubOutbox, job.bind !== null);
    router.close();
    publisher.close();
    if (privateDir) {
      await Deno.remove(privateDir, { recursive: true }).catch(() => {});
    }
  }
  if (fatal) throw fatal;
  if (job.bind) {
    log.debug(
      `payload window: at most ${payloadsPeak} image payload(s) in memory at once (limit ${payloadWindow})`,
      { payloadsPeak, payloadWindow },
    );
  }

  const end = now();
  const workers: ModeResult["workers"] = scheduler.workers.map((w) => {
    const present = (w.left ?? end) - w.joined;
    return {
      id: w.id,
      pid: seen.get(w.id)?.pid ?? null,
      host: seen.get(w.id)?.host ?? null,
      processed: w.processed,
      failed: w.failed,
      busySeconds: Math.round(w.busyMs) / 1000,
      idleSeconds: Math.round(Math.max(0, present - w.busyMs)) / 1000,
      spans: w.spans.map((s) => ({
        ...s,
        start: Math.round(s.start),
        end: Math.round(s.end),
      })),
    };
  });
  return {
    workers,
    workerMs: scheduler.workers.reduce((sum, w) => sum + w.busyMs, 0),
  };
}

/** Broadcasts quit until every local worker has exited; kills those still there after the grace period. */
async function shutdown(
  locals: Map<string, LocalWorker>,
  pub: Outbox,
  remote: boolean,
): Promise<void> {
  const deadline = performance.now() + EXIT_GRACE_MS;
  while (locals.size > 0 && performance.now() < deadline) {
    await pub.send(encodeBroadcast({ type: "quit" }));
    await Promise.race([
      Promise.all([...locals.values()].map((w) => w.status)),
      new Promise((resolve) => setTimeout(resolve, 100)),
    ]);
  }
  for (const worker of locals.values()) {
    try {
      worker.process.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  await Promise.all([...locals.values()].map((w) => w.status));
  // Remote workers hear the quit too. The PUB socket is closed with linger 0 right after and the
  // process ends, so a single quit can be dropped before it leaves (a remote worker would then
  // wait out its --server-timeout): say it a few times, giving ZeroMQ's I/O thread time to send.
  for (let i = 0; i < (remote ? REMOTE_QUITS : 1); i++) {
    await pub.send(encodeBroadcast({ type: "quit" }));
    if (remote) await new Promise((resolve) => setTimeout(resolve, REMOTE_QUIT_GAP_MS));
  }
}

/** How many times, and how far apart in ms, a `serve` run's last quit is broadcast. */
const REMOTE_QUITS = 3, REMOTE_QUIT_GAP_MS = 30;

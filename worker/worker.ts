/**
 * A zpix worker: a DEALER for work and a SUB for broadcasts. It joins, gets
 * the pipeline once (`hello`), asks for tasks (one, or a `--batch`), does
 * them, answers, and asks again, until the server says `quit` or falls silent.
 *
 * @module
 */

import * as zmq from "../transport/zmq.ts";
import { flushClosedSockets } from "../transport/libzmq.ts";
import { EVENT, type MonitorEvent, readEvents } from "../transport/monitor.ts";
import { describeHandshakeFailure, HANDSHAKE_GRACE_MS } from "./handshake.ts";
import { hostname } from "node:os";
import {
  broadcastEndpoint,
  decodeBroadcast,
  decodeServerMessage,
  encodeMessage,
  HEARTBEAT_MS,
  MAX_BROADCAST_BYTES,
  MAX_INPUT_BYTES,
  type ResultMessage,
  type SharedFsProbe,
  type TaskMessage,
  type TasksMessage,
  type WorkerMessage,
} from "../transport/protocol.ts";
import { Outbox, receiveAll, SOCKET_OPTIONS } from "../transport/socket_io.ts";
import type { Pipeline, WorkerOptions } from "../core/job.ts";
import { randomHex } from "../core/hex.ts";
import { cpuMs } from "../core/runtime.ts";
import { processFile, summarise } from "../task/task.ts";
import { ImageThread, type ThreadAnswer } from "./image_thread.ts";
import { WorkerShutdown } from "./shutdown.ts";
import { formatForName } from "../ops/formats.ts";
import { injectFault, readFaults } from "./fault.ts";
import { workerCurveOptions } from "../transport/curve.ts";
import { BatchReport, wantMore } from "./batch.ts";
import { proveSharedFs, SharedFolders } from "./shared_fs.ts";

/**
 * How long a worker that has just answered blocks waiting for its next task
 * before waiting asynchronously (see `receiveAll`); heartbeats and signals
 * are delayed by at most this much.
 */
export const TASK_LINGER_MS = 5;

/**
 * How often a local worker retries connecting to a server that has not bound
 * yet, in ms; a remote one starts at this and backs off.
 */
export const LOCAL_RECONNECT_MS = 10;

/**
 * The longest pause between a remote worker's tries to connect to an absent
 * server, in ms: ZeroMQ's own default interval, so a worker waiting for a
 * server knocks no more often than it did with ZeroMQ's default.
 */
export const REMOTE_RECONNECT_MAX_MS = 100;

/** Longest wait for a broadcast before looking again, in ms (the server's heartbeats end most). */
export const BROADCAST_SLICE_MS = 2 * HEARTBEAT_MS;

/** Exit codes of a worker process. */
export const WORKER_EXIT = { ok: 0, refused: 2, serverGone: 4 } as const;

/**
 * Does one task. A local worker's task runs on this thread, reading and
 * writing the paths it names, and calls `askAhead` once its output is
 * encoded, before writing it (see `ReadyMessage.finishing`). Any other
 * worker touches no path but inside its `--shared-fs` folders (a path task
 * there is read and written by `shared`, see `shared_fs.ts`): its bytes go
 * to the image thread unless small (`image_thread.ts`: this thread stays free
 * for heartbeats and signals), and it calls `askAhead` as it starts them: the
 * next image's bytes (read by the server, sent over the network) arrive
 * while this one is processed. `started`: the image thread's answer for
 * these bytes, when they were handed over ahead (a batch's next image).
 */
async function doTask(
  task: TaskMessage,
  payload: Uint8Array | null,
  pipeline: Pipeline,
  askAhead: () => void,
  thread: ImageThread,
  local: boolean,
  shared: SharedFolders | null,
  started?: Promise<ThreadAnswer>,
): Promise<
  { message: ResultMessage; payload?: Uint8Array }
> {
  const base = {
    type: "result" as const,
    task: task.task,
    attempt: task.attempt,
    more: true,
  };
  if (local && task.input !== null && task.output !== null) {
    const outcome = await processFile(task.input, task.output, pipeline, askAhead);
    return {
      message: {
        ...base,
        ...outcome,
        ...(outcome.ok ? { format: formatForName(task.output) ?? "jpeg" } : {}),
      } as ResultMessage,
    };
  }
  const fail = (error: string) => ({ message: { ...base, ok: false as const, error } });
  // A --shared-fs worker sent paths reads the input itself, then goes on as for bytes.
  let bytes = payload, output: string | null = null, read = 0;
  if (shared && !payload && task.input !== null) {
    const opened = await shared.read(task);
    if ("error" in opened) return fail(opened.error);
    ({ bytes, output, ms: read } = opened);
  }
  if (!bytes) return fail("task carried no image bytes");
  askAhead();
  const answer = await (started ?? thread.process(bytes, pipeline, task.name));
  if (!answer.ok) return fail(answer.error);
  const summary = summarise(answer.encoded);
  const done = { ...base, ok: true as const, ...summary, format: answer.encoded.format };
  if (output === null) return { message: done, payload: answer.encoded.bytes };
  // ... and writes the output itself (atomically): the result carries no bytes.
  const write = await shared!.write(output, answer.encoded.bytes, task.output!);
  if (typeof write !== "number") return fail(write.error);
  return { message: { ...done, timings: { ...summary.timings, read, write } } };
}

/** How long a leaving worker's last messages may take to go out, in ms. */
const LEAVE_LINGER_MS = 1000;

/** How often a worker that has not been welcomed yet repeats its `join`, in ms. */
export const JOIN_RETRY_MS = 1000;

/**
 * Runs one worker until the run ends. Resolves to its exit code:
 * 0 after `quit` (or a graceful leave), 2 when refused, 4 when the server
 * fell silent.
 *
 * A remote worker waits for its server as long as it takes, repeating its
 * `join` (the server may start later, or a persisting worker's join may
 * have reached the previous server as it closed). Once welcomed, it exits
 * when the server is silent for `--server-timeout`.
 *
 * When `stop` aborts (SIGINT/SIGTERM), the worker leaves gracefully: it
 * finishes the task in hand, sends its result with `more: false`, sends
 * `leave` and resolves to 0.
 */
export async function runWorker(
  options: WorkerOptions,
  log: (line: string) => void = console.error,
  stop: AbortSignal = new AbortController().signal,
): Promise<number> {
  // Local workers share the server's host (and need no --allow-sys for its name).
  const host = options.local ? "local" : hostname();
  // Random bits in a remote worker's id: nobody can guess it to act in its name once its
  // connection drops (the server tells one connection from another only by this id).
  const id = options.id ?? `${host.slice(0, 200)}-${randomHex(8)}-${Deno.pid}`;
  const curve = workerCurveOptions(options.curveServerKey);
  // A worker often starts before its server has bound (a local one always: broker/pool.ts
  // EarlyPool): retry connecting every 10 ms rather than ZeroMQ's default 100 ms; a remote one
  // backs off from there to ZeroMQ's default while no server answers.
  const reconnect = options.local
    ? { reconnectInterval: LOCAL_RECONNECT_MS }
    : { reconnectInterval: LOCAL_RECONNECT_MS, reconnectIntervalMax: REMOTE_RECONNECT_MAX_MS };
  const dealer = new zmq.Dealer({
    ...SOCKET_OPTIONS,
    ...reconnect,
    routingId: id,
    sendHighWaterMark: 4,
    receiveHighWaterMark: 4,
    // Nothing larger than the largest input a server sends is buffered (transport/protocol.ts).
    maxMessageSize: MAX_INPUT_BYTES,
    // Queue nothing while no server is there: a repeated join goes out once, not in a burst.
    immediate: true,
    ...curve,
  });
  const sub = new zmq.Subscriber({
    ...SOCKET_OPTIONS,
    ...reconnect,
    maxMessageSize: MAX_BROADCAST_BYTES,
    ...curve,
  });
  // A remote worker watches its handshakes, to name a server that keeps refusing them.
  const monitor = options.local ? null : dealer.monitor(
    EVENT.handshakeSucceeded | EVENT.handshakeFailedNoDetail |
      EVENT.handshakeFailedProtocol | EVENT.handshakeFailedAuth,
  );
  let failingSince: number | null = null;
  dealer.connect(options.connect);
  sub.connect(broadcastEndpoint(options.connect));
  sub.subscribe();
  const outbox = new Outbox(dealer);
  /** When this worker last sent anything: any message tells the server it lives. */
  let lastSent = 0;
  const send = (message: WorkerMessage, payload?: Uint8Array | Uint8Array[]) => {
    lastSent = Date.now();
    return outbox.send(encodeMessage(message, payload));
  };
  // The ready after a hello: how many tasks a batching worker wants (worker/batch.ts), and the
  // answer to a --shared-fs probe.
  const ready = async (probe?: SharedFsProbe): Promise<WorkerMessage> => ({
    type: "ready",
    ...(options.batch > 1
      ? { want: Math.max(1, wantMore(options.batch, 0, done, options.maxTasks)) }
      : {}),
    ...await proveSharedFs(shared, probe, log),
  });
  const started = Date.now();
  let lastHeard = Date.now();
  /** Of the time since `lastHeard`, how long this thread was blocked (not the server's silence). */
  let stalled = 0;
  let pipeline: Pipeline | null = null;
  let busy = false;
  let done = 0;
  const faults = readFaults();
  const thread = new ImageThread();
  const shared = options.sharedFs?.length ? new SharedFolders(options.sharedFs) : null;
  let joining: Promise<void> | null = null;
  let lastJoin = 0;
  let toldWaiting = false;
  /** Told to join again (taken for lost): the next `hello` is answered with `ready`. */
  let rejoining = false;

  const shutdown = new WorkerShutdown(() => {
    monitor?.close();
    dealer.close();
    sub.close();
    thread.close();
  });

  const join = () => {
    lastJoin = Date.now();
    joining = send({
      type: "join",
      pid: Deno.pid,
      host,
      local: options.local,
      token: options.token,
      ...(shared ? { sharedFs: [...shared.folders] } : {}),
    }).finally(() => joining = null);
  };

  const leave = () =>
    shutdown.leave(WORKER_EXIT.ok, async () => {
      if (!pipeline) return;
      await send({ type: "leave" });
      // The last result and `leave` go out before the process exits (at most a second).
      dealer.linger = LEAVE_LINGER_MS;
      shutdown.end(WORKER_EXIT.ok);
      await flushClosedSockets(LEAVE_LINGER_MS);
    });
  const onStop = () => {
    if (!busy) void leave();
  };
  stop.addEventListener("abort", onStop);

  let lastFailure: MonitorEvent | null = null;
  const watchHandshakes = async () => {
    for (const event of monitor && !monitor.closed ? await readEvents(monitor) : []) {
      if (event.event === EVENT.handshakeSucceeded) failingSince = null;
      else {
        failingSince ??= Date.now();
        lastFailure = event;
      }
    }
    if (
      shutdown.exitCode === null && failingSince !== null && lastFailure &&
      Date.now() - failingSince >= HANDSHAKE_GRACE_MS
    ) {
      const curveUsed = curve.curveServerKey !== undefined;
      log(`worker ${id}: ${describeHandshakeFailure(lastFailure, options.connect, curveUsed)}`);
      shutdown.abandon(WORKER_EXIT.refused);
    }
  };

  // Broadcasts waiting unread (the server sends a heartbeat every 250 ms, and they are read as
  // soon as this thread is free): the server spoke while this thread was blocked.
  const heardMeanwhile = () => {
    try {
      return sub.readable;
    } catch {
      return false;
    }
  };
  let lastTick = Date.now();
  const heartbeat = setInterval(() => {
    watchHandshakes().catch(() => {}); // a monitor closed meanwhile: nothing left to watch
    if (shutdown.exitCode !== null) return;
    const welcomed = pipeline !== null;
    if (!welcomed && !options.local) {
      // Waiting for a server: no deadline, but say so, and knock again.
      if (!toldWaiting && Date.now() - started > 2 * JOIN_RETRY_MS) {
        toldWaiting = true;
        log(`worker ${id}: waiting for a server at ${options.connect}`);
      }
      if (!joining && Date.now() - lastJoin >= JOIN_RETRY_MS) join();
      return;
    }
    const now = Date.now();
    // Time this thread spent blocked (a local worker's stage runs on it) is not the server's
    // silence: what the server sent meanwhile waits, unread, in the sockets.
    stalled += Math.max(0, now - lastTick - 2 * HEARTBEAT_MS);
    lastTick = now;
    if (now - lastHeard - stalled > options.serverTimeout * 1000 && heardMeanwhile()) {
      lastHeard = now;
    }
    if (now - lastHeard - stalled > options.serverTimeout * 1000) {
      log(
        `worker ${id}: no word from the server at ${options.connect} for ${options.serverTimeout}s; exiting`,
      );
      shutdown.abandon(WORKER_EXIT.serverGone);
      return;
    }
    // Only after a quiet spell: a batching worker's answers (every few tasks) say it lives.
    if (welcomed && now - lastSent >= HEARTBEAT_MS) send({ type: "heartbeat" });
  }, HEARTBEAT_MS);

  // Not waited for at the end: its last wait ends up to BROADCAST_SLICE_MS after the close.
  void (async () => {
    try {
      // Its waits end at the server's heartbeats: a 10 ms slice woke this thread 100 times a second.
      for await (const frames of receiveAll(sub, 0, undefined, BROADCAST_SLICE_MS)) {
        lastHeard = Date.now();
        stalled = 0;
        // A persisting worker not yet welcomed may hear the previous server's last quit.
        if (
          decodeBroadcast(frames as Uint8Array[]).type === "quit" &&
          (pipeline !== null || !options.persist)
        ) {
          shutdown.abandon(WORKER_EXIT.ok);
        }
      }
    } catch {
      // closed
    }
  })();

  /** Does one task (after the test-only fault hook); null once the worker is shutting down. */
  const work = (
    message: TaskMessage,
    payload: Uint8Array | null,
    askAhead: () => void,
    started?: Promise<ThreadAnswer>,
  ) =>
    Promise.race([
      injectFault(faults, message.name, message.attempt).then(() =>
        doTask(message, payload, pipeline!, askAhead, thread, options.local, shared, started)
      ),
      shutdown.ended,
    ]);
  // Whether to go on after a task: not once recycled (--max-tasks) or asked to stop.
  const wanted = () => !stop.aborted && (options.maxTasks === 0 || done < options.maxTasks);
  // Its own CPU time so far, for the report (core/runtime.ts: no permission needed).
  const ownCpuMs = () => {
    const ms = cpuMs();
    return ms === null ? undefined : Math.round(ms);
  };
  /** Tasks of the grant in hand not done yet. */
  let left = 0;
  // Sends what is done (none when nothing is), asking for as much as that leaves room for.
  const sendResults = async (more: boolean) => {
    const { results, payloads } = report.take();
    const want = more ? wantMore(options.batch, left, done, options.maxTasks) : 0;
    if (results.length) {
      await send({ type: "results", results, want, cpu: ownCpuMs() }, payloads);
    }
  };
  const report = new BatchReport(options.batch, () => void sendResults(wanted()));
  /**
   * A grant of several tasks (remote: their bytes, one frame each), done in
   * order; their outcomes go back a few at a time (worker/batch.ts). False
   * once the worker stops or leaves (the server takes back what it did not start).
   */
  const doBatch = async (message: TasksMessage, payloads: Uint8Array[]): Promise<boolean> => {
    busy = true;
    // A remote worker hands the grant's large images to its image thread at once (small ones are
    // done here at their turn): it goes from one to the next without waiting for this thread.
    const ahead = options.local || stop.aborted
      ? []
      : message.tasks.map((entry, i) =>
        payloads[i]?.length && !thread.runsHere(payloads[i], pipeline!)
          ? thread.process(payloads[i], pipeline!, entry.name)
          : undefined
      );
    try {
      for (const [i, entry] of message.tasks.entries()) {
        const result = await work(
          { type: "task", ...entry },
          payloads[i] ?? null,
          () => {},
          ahead[i],
        );
        if (shutdown.exitCode !== null || result === null) return false;
        done++;
        left = message.tasks.length - i - 1;
        report.add(result.message, result.payload);
        const more = wanted();
        // Early reports of small grants (batch.ts): remote, with no next grant already waiting.
        const grant = options.local || dealer.readable ? Infinity : message.tasks.length;
        if (!more || report.due(left, grant)) await sendResults(more);
        if (!more) {
          await leave();
          return false;
        }
      }
      return true;
    } finally {
      busy = false;
    }
  };

  join();
  try {
    const tasks = (async () => {
      for await (const frames of receiveAll(dealer, TASK_LINGER_MS)) {
        lastHeard = Date.now();
        stalled = 0;
        const decoded = decodeServerMessage(frames as Uint8Array[]);
        const { message, payload } = decoded;
        if (message.type === "refused" && message.rejoin && pipeline) {
          // Taken for lost (its last answer, if any, was dropped): join again, token and all.
          if (!rejoining) log(`worker ${id}: the server took this worker for lost; joining again`);
          rejoining = true;
          if (!joining) join();
          continue;
        }
        if (message.type === "refused") {
          log(`worker ${id}: the server refused this worker: ${message.reason}`);
          shutdown.end(WORKER_EXIT.refused);
          break;
        }
        if (message.type === "hello") {
          if (pipeline && rejoining) {
            rejoining = false;
            if (stop.aborted) {
              await leave();
              break;
            }
            await send(await ready(message.probe));
            continue;
          }
          if (pipeline) continue; // a repeated join's answer
          pipeline = message.pipeline;
          if (stop.aborted) {
            await leave();
            break;
          }
          await send(await ready(message.probe));
          continue;
        }
        if (!pipeline) continue;
        if (message.type === "tasks") {
          if (!(await doBatch(message, decoded.payloads ?? []))) break;
          continue;
        }
        busy = true;
        // A worker asks for its next task before this one is done (a local one while it writes
        // the output, a remote one while its image thread works), so the round trip to the
        // server overlaps the work; not for its last task, nor when a task already waits
        // (--prefetch sent it).
        let askedAhead = false;
        const askAhead = () => {
          if (stop.aborted || (options.maxTasks > 0 && done + 1 >= options.maxTasks)) return;
          if (dealer.readable) return;
          askedAhead = true;
          void send({ type: "ready", finishing: message.task });
        };
        const result = await work(message, payload, askAhead);
        busy = false;
        if (shutdown.exitCode !== null || result === null) break;
        done++;
        const more = wanted();
        await send(
          { ...result.message, more: more && !askedAhead, cpu: ownCpuMs() },
          result.payload,
        );
        if (!more) {
          // Recycled or asked to stop: leave gracefully (a local server starts a fresh worker).
          await leave();
          break;
        }
      }
    })();
    // Quit or a silent server ends the run at once, even while the dealer waits for a task.
    await Promise.race([tasks, shutdown.over]);
  } catch (error) {
    if (shutdown.exitCode === null) {
      log(
        `worker ${id}: ${error instanceof Error ? error.message : String(error)}`,
      );
      shutdown.end(WORKER_EXIT.serverGone);
    }
  } finally {
    clearInterval(heartbeat);
    report.close();
    stop.removeEventListener("abort", onStop);
    shutdown.end(WORKER_EXIT.ok);
  }
  return await shutdown.settled(WORKER_EXIT.ok);
}

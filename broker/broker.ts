/**
 * The ZeroMQ broker: on a ROUTER (tasks) and a PUB (broadcasts) bound by
 * `sockets.ts`, starts local workers (and, in `serve` mode, accepts remote
 * ones), feeds the {@link Scheduler} with what the sockets and processes
 * say, one handler per message, and tears everything down when every
 * result is in (`workers.ts` says when a worker is lost and how they end).
 *
 * @module
 */

import { join } from "node:path";
import {
  decodeWorkerMessage,
  encodeBroadcast,
  encodeMessage,
  HEARTBEAT_MS,
  MAX_STRANGER_FRAME_BYTES,
  Outbox,
  receiveAll,
  type ServerMessage,
  type WorkerMessage,
} from "../transport/protocol.ts";
import { Scheduler, type TaskEnd } from "./scheduler.ts";
import { describeExit, type EarlyPool, type LocalWorker, spawnWorker } from "./pool.ts";
import { type BrokerSockets, closeSockets, maxFrameBytes, openSockets } from "./sockets.ts";
import {
  BROKER_LINGER_MS,
  busySilenceMs,
  killWorker,
  LEFT,
  modeResult,
  outputsWritten,
  type Peer,
  shutdown,
  SILENCE_MS,
  START_TIMEOUT_MS,
} from "./workers.ts";
import type { ModeResult, Recorder } from "../run/run.ts";
import type { Log } from "../core/log.ts";
import { RunError } from "../core/errors.ts";
import type { Job, Task } from "../core/job.ts";
import { describeWriteError } from "../core/atomic.ts";
import { RemoteFiles } from "./remote_files.ts";
import { readDimensions } from "../ops/formats.ts";
import { WorkerCpuTimes } from "../run/cpu.ts";
import { checkPayload, Gate, idOf, localName, localWorkerId } from "./gate.ts";
import { printable } from "../transport/schema.ts";

const encoder = new TextEncoder();

/** A decoded worker message, as the broker's handlers receive it. */
type Incoming<T extends WorkerMessage["type"]> = Extract<WorkerMessage, { type: T }>;

/**
 * One run's broker: its sockets, its workers (local processes and remote
 * peers) and the {@link Scheduler}, on sockets {@link openSockets} bound.
 * {@link Broker.run} starts the local workers and answers messages until
 * every result is in, one handler per message type; {@link Broker.tick}
 * keeps time (heartbeats, silence, timeouts, the start-up deadline).
 */
export class Broker {
  readonly #log: Log;
  readonly #t0 = performance.now();
  readonly #byIndex: Map<number, Task>;
  readonly #peers = new Map<string, Peer>();
  /** Who is a worker, and what is said about peers (broker/gate.ts). */
  readonly #gate: Gate;
  readonly #scheduler: Scheduler;
  readonly #outbox: Outbox;
  readonly #pubOutbox: Outbox;
  readonly #locals = new Map<string, LocalWorker>();
  /** Pixels of the image each remote worker holds (its silence allowance). */
  readonly #taskPixels = new Map<string, number>();
  #nextLocal = 1;
  #finished = false;
  #fatal: RunError | null = null;
  #joinedOnce = false;
  #earlyExits = 0;
  #payloadsPeak = 0;
  /** Each worker's reported process CPU time, for the report. */
  readonly #cpuTimes = new WorkerCpuTimes();
  /** Remote workers' inputs read and outputs written, off the message loop. */
  readonly #files: RemoteFiles;

  /** A broker on bound sockets ({@link openSockets}); {@link run} starts it. */
  constructor(
    readonly job: Job,
    readonly tasks: Task[],
    readonly recorder: Recorder,
    readonly signal: AbortSignal,
    readonly sockets: BrokerSockets,
  ) {
    this.#log = recorder.log;
    this.#gate = new Gate(recorder.log, job);
    this.#byIndex = new Map<number, Task>(tasks.map((task) => [task.index, task]));
    this.#files = new RemoteFiles(job.input, job.output, (error) => {
      this.#fatal ??= new RunError(`internal error: ${(error as Error)?.stack ?? error}`);
    });
    // At most job.payloadWindow payloads in memory, whatever the number of workers.
    this.#scheduler = new Scheduler(
      tasks.map((task) => task.index),
      job.maxAttempts,
      (id) => this.#peers.get(id)?.local !== false || this.#payloadsInFlight() < job.payloadWindow,
      job.prefetch,
    );
    this.#outbox = new Outbox(
      sockets.router,
      (error) => this.#log.debug(`send failed: ${(error as Error).message}`),
    );
    this.#pubOutbox = new Outbox(sockets.publisher);
  }

  /** Milliseconds since the broker opened. */
  #now(): number {
    return performance.now() - this.#t0;
  }

  /** Remote images in memory (the send window): tasks out and not answered, outputs not written. */
  #payloadsInFlight(): number {
    let sum = this.#files.writing + this.#scheduler.held;
    for (const id of this.#locals.keys()) {
      if (this.#peers.get(id)?.local) sum -= this.#scheduler.worker(id)?.held.length ?? 0;
    }
    return sum;
  }

  #sendTo(id: string, message: ServerMessage, payload?: Uint8Array): Promise<void> {
    return this.#outbox.send([
      encoder.encode(id),
      ...encodeMessage(message, payload),
    ]);
  }

  #startLocal(): void {
    const id = localWorkerId(this.#nextLocal++);
    this.#adopt(spawnWorker(
      { ...this.job, curveServerKey: this.sockets.curve.publicKey },
      this.sockets.endpoint,
      id,
      (line) => this.#log.warn(`${localName(id)}: ${line}`),
      this.job.maxTasksPerWorker,
    ));
  }

  /** Watches a started local worker: a replacement is started when it dies early. */
  #adopt(worker: LocalWorker): void {
    const id = worker.id;
    this.#locals.set(id, worker);
    this.#gate.localIds.add(id);
    worker.status.then((status) => {
      this.#locals.delete(id);
      if (this.#finished) return;
      const wrote = outputsWritten(this.job, (t) => this.#byIndex.get(t)!, this.#now());
      this.#lose(id, describeExit(status), false, wrote);
      // Workers that die before joining, at the start or (replacements) over and over: give up.
      const seen = this.#gate.seen.has(id);
      this.#earlyExits = seen ? 0 : this.#earlyExits + 1;
      if (
        !seen &&
        (!this.#joinedOnce ? status.code !== 0 : this.#earlyExits > this.job.workers + 3)
      ) {
        this.#fatal ??= new RunError(
          `worker ${this.#gate.name(id)} exited before joining (${describeExit(status)})${
            worker.stderr.length ? ": " + worker.stderr.at(-1) : ""
          }`,
        );
      }
      if (!this.#scheduler.done && !this.signal.aborted && !this.#fatal) this.#startLocal();
    });
  }

  #killLocal(id: string): void {
    killWorker(this.#locals.get(id));
  }

  /**
   * A worker is gone (or given up on): it is no worker any more until it joins
   * again. `timedOut`: it held its task past --task-timeout, so it is never
   * given that task again, nor let back in this run (a worker that holds tasks
   * without answering would otherwise hold the payload window, task after task).
   */
  #lose(id: string, reason: string, timedOut = false, finished?: (task: number) => boolean): void {
    const scheduler = this.#scheduler;
    const present = scheduler.worker(id) !== undefined;
    const task = scheduler.blamed(id, finished);
    const failed = scheduler.lost(id, this.#now(), reason, timedOut, finished);
    if (timedOut) this.#gate.banned.add(id);
    if (task !== null) {
      this.#log.warn(
        `${this.#gate.name(id)} lost (${reason}) while on ${this.#byIndex.get(task)!.input}`,
      );
    } else if (present && reason !== LEFT) {
      this.#log.warn(`${this.#gate.name(id)} lost (${reason})`);
    }
    for (const index of failed) {
      const end = scheduler.ended.get(index)!;
      this.recorder.record(
        this.#byIndex.get(index)!,
        end.ok ? { ok: false, error: "?" } : { ok: false, error: end.error },
      );
    }
    this.#peers.delete(id);
    this.#files.forget(id);
    void this.#dispatch();
  }

  async #sendTask(id: string, taskIndex: number, attempt: number): Promise<void> {
    const { input, output } = this.job;
    const task = this.#byIndex.get(taskIndex)!;
    const header = { type: "task", task: taskIndex, attempt, name: task.input } as const;
    if (!this.#peers.has(id)) return; // lost meanwhile: its tasks are requeued
    if (this.#peers.get(id)!.local) {
      const paths = { input: join(input, task.input), output: join(output, task.output) };
      return await this.#sendTo(id, { ...header, ...paths });
    }
    this.#payloadsPeak = Math.max(this.#payloadsPeak, this.#payloadsInFlight());
    // Read off the loop; sent (in this worker's order) unless the task changed hands meanwhile.
    const held = () => this.#scheduler.holds(id, taskIndex, attempt);
    this.#files.read(id, task.input, async (bytes) => {
      if (!held()) return;
      const size = readDimensions(bytes);
      this.#taskPixels.set(id, size ? size.width * size.height : 0);
      await this.#sendTo(id, { ...header, input: null, output: null }, bytes);
    }, async (error) => {
      // Reading is the server's part of a remote task: its failure is this image's failure.
      if (!held()) return;
      this.#scheduler.result(id, taskIndex, { ok: false, error: error.message }, this.#now());
      this.recorder.record(task, {
        ok: false,
        error: `cannot read ${task.input}: ${error.message}`,
      });
      const next = this.#scheduler.ready(id, this.#now());
      if (next) await this.#sendTask(id, next.task, next.attempt);
    });
  }

  async #dispatch(): Promise<void> {
    for (const assignment of this.#scheduler.dispatch(this.#now())) {
      await this.#sendTask(assignment.worker, assignment.task, assignment.attempt);
    }
  }

  /** Every half heartbeat: heartbeats, silence, timeouts, start-up deadline. */
  tick(): void {
    const job = this.job;
    void this.#pubOutbox.send(encodeBroadcast({ type: "heartbeat" }));
    const t = this.#now();
    for (const peer of [...this.#peers.values()]) {
      const busy = this.#scheduler.worker(peer.id)?.task !== null;
      // A busy local worker is left to --task-timeout; a busy remote one gets longer.
      if (busy && peer.local && this.#locals.has(peer.id)) continue;
      const limit = busy ? busySilenceMs(this.#taskPixels.get(peer.id) ?? 0) : SILENCE_MS;
      if (t - peer.lastSeen > limit) {
        this.#lose(peer.id, `worker silent for ${(limit / 1000).toFixed(1)}s`);
        // A local worker given up on is killed, so that it is replaced.
        this.#killLocal(peer.id);
      }
    }
    for (const state of this.#scheduler.overdue(t, job.taskTimeout * 1000)) {
      this.#lose(state.id, `task took longer than --task-timeout ${job.taskTimeout}s`, true);
      this.#killLocal(state.id);
    }
    if (!this.#joinedOnce && job.workers > 0 && t > START_TIMEOUT_MS) {
      const lastWords = [...this.#locals.values()].flatMap((w) => w.stderr).at(-1);
      this.#fatal ??= new RunError(
        `no worker joined within ${START_TIMEOUT_MS / 1000}s` + (lastWords ? `: ${lastWords}` : ""),
      );
    }
    // Done, with the last result settled off the loop (a read failed): stop listening.
    if (this.#fatal || this.signal.aborted || this.#scheduler.done) this.sockets.router.close();
  }

  /** A worker asks to join: check its token, answer `hello` with the pipeline. */
  async onJoin(id: string, message: Incoming<"join">, peer: Peer | undefined): Promise<void> {
    const job = this.job;
    const refusal = this.#gate.refuseJoin(id, message);
    if (refusal) {
      await this.#sendTo(id, { type: "refused", reason: refusal });
      return;
    }
    if (peer) {
      // A join repeated while the first was on its way: answer it again, change nothing.
      await this.#sendTo(id, { type: "hello", worker: id, pipeline: job.pipeline });
      return;
    }
    // Only workers this server started may read and write its folders directly.
    const local = message.local && this.#locals.has(id);
    this.#peers.set(id, {
      id,
      local,
      pid: message.pid,
      host: message.host,
      lastSeen: this.#now(),
      count: 0,
    });
    this.#gate.seen.set(id, { pid: message.pid, host: message.host });
    this.#scheduler.join(id, this.#now());
    this.#joinedOnce = true;
    this.#log.debug(
      `worker ${this.#gate.name(id)} joined (pid ${message.pid} on ${message.host}${
        local ? "" : ", remote"
      })`,
    );
    await this.#sendTo(id, { type: "hello", worker: id, pipeline: job.pipeline });
  }

  /** A worker asks for work (possibly ahead, while it writes its current output). */
  async onReady(id: string, message: Incoming<"ready">, peer: Peer | undefined): Promise<void> {
    if (!peer) return;
    const ahead = message.finishing !== undefined &&
      this.#scheduler.worker(id)?.task === message.finishing;
    const assignment = this.#scheduler.ready(id, this.#now(), ahead);
    if (assignment) await this.#sendTask(id, assignment.task, assignment.attempt);
    await this.#dispatch(); // prefetch room, or workers waiting ahead of it for the window
  }

  /** A worker answers a task: write a remote output, record it, hand out the next. */
  async onResult(
    id: string,
    message: Incoming<"result">,
    payload: Uint8Array | null,
    peer: Peer | undefined,
  ): Promise<void> {
    if (!peer) return;
    this.#cpuTimes.note(id, message.cpu, this.#now() / 1000);
    const scheduler = this.#scheduler;
    const task = this.#byIndex.get(message.task);
    // Only the worker that holds this task at this attempt, while it is open, has a say:
    // a late answer of a replaced attempt, or one for a task done elsewhere, changes nothing.
    const holds = task !== undefined && scheduler.holds(id, message.task, message.attempt);
    const name = this.#gate.name(id);
    if (!holds) {
      this.#log.debug(
        `${name}: stale result for task ${message.task} attempt ${message.attempt} dropped`,
      );
    }
    let end: TaskEnd = message.ok ? { ok: true } : { ok: false, error: message.error };
    // Remote result: the server writes the file (off the loop, below).
    if (holds && message.ok && !peer.local) end = checkPayload(message, payload);
    const counted = holds &&
      scheduler.result(id, message.task, end, this.#now(), message.attempt);
    // The worker is waiting: its next task goes out before the bookkeeping.
    if (message.more && !scheduler.done) {
      const assignment = scheduler.ready(id, this.#now());
      if (assignment) await this.#sendTask(id, assignment.task, assignment.attempt);
    }
    if (counted) peer.count++;
    if (counted && message.ok && end.ok && !peer.local) {
      this.#writeOutput(id, task!, message, payload!);
    } else if (counted) {
      this.recorder.record(
        task!,
        message.ok && end.ok ? message : { ok: false, error: end.ok ? "" : end.error },
      );
    }
    if (scheduler.done) return;
    await this.#dispatch();
  }

  /** Writes a remote output off the loop; records it once written (or failed, then amended). */
  #writeOutput(id: string, task: Task, message: Incoming<"result">, bytes: Uint8Array): void {
    this.#files.write(task.output, bytes, (error) => {
      if (error === null) this.recorder.record(task, message);
      else {
        const end = { ok: false, error: describeWriteError(error, task.output) } as const;
        this.#scheduler.amend(id, task.index, end);
        this.recorder.record(task, end);
      }
      // The payload window has room again.
      if (!this.#scheduler.done) void this.#dispatch();
    });
  }

  /** A worker leaves (after --max-tasks, or stopped): its tasks go back to the queue. */
  onLeave(id: string, peer: Peer | undefined): void {
    if (peer) this.#lose(id, LEFT);
  }

  /**
   * The gate every message passes (see broker/gate.ts): a valid routing id, a
   * message that matches its schema, and, for anything but `join`, a worker
   * that joined on this id. Then its handler; false if it was dropped.
   */
  async handle(identity: Uint8Array, frames: Uint8Array[]): Promise<boolean> {
    const id = idOf(identity);
    if (id === null) {
      this.#gate.warnings.warn(`ignoring a message from a peer whose id is not UTF-8 text`);
      return false;
    }
    let decoded;
    try {
      decoded = decodeWorkerMessage(frames);
    } catch (error) {
      const why = (error as Error).message;
      this.#gate.warnings.warn(`ignoring a bad message from ${this.#gate.name(id)}: ${why}`);
      if (/protocol version/.test(why)) {
        await this.#sendTo(id, { type: "refused", reason: printable(why, 200) });
      }
      return false;
    }
    const { message, payload } = decoded;
    const peer = this.#peers.get(id);
    if (!peer && message.type !== "join") {
      // Not a worker (never joined, or taken for lost): nothing it says has any effect.
      const answer = this.#gate.stranger(id, message.type, this.#now());
      if (answer) await this.#sendTo(id, answer);
      return false;
    }
    if (peer) peer.lastSeen = this.#now();
    switch (message.type) {
      case "join":
        await this.onJoin(id, message, peer);
        break;
      case "ready":
        await this.onReady(id, message, peer);
        break;
      case "result":
        await this.onResult(id, message, payload, peer);
        break;
      case "leave":
        this.onLeave(id, peer);
        break;
      case "heartbeat": // lastSeen is all it changes
        break;
    }
    return true;
  }

  /** Starts the local workers, answers messages until every result is in, then tears down. */
  async run(pool?: EarlyPool): Promise<ModeResult> {
    const job = this.job;
    if (pool) {
      // Started before ZeroMQ was loaded (see EarlyPool): adopt them.
      pool.workers.forEach((worker) => this.#adopt(worker));
      this.#nextLocal += pool.workers.length;
    } else {
      for (let i = 0; i < job.workers; i++) this.#startLocal();
    }
    if (job.workers === 0) {
      this.#log.info(`no local worker: waiting for workers to connect (Ctrl-C to stop)`);
    }
    const ticker = setInterval(() => this.tick(), HEARTBEAT_MS / 2);
    const onAbort = () => this.sockets.router.close();
    this.signal.addEventListener("abort", onAbort);
    try {
      // A peer that is no worker gets no large frame copied out of libzmq: a `join` is small.
      const cap = (identity: Uint8Array) =>
        this.#peers.has(idOf(identity) ?? "") ? Infinity : MAX_STRANGER_FRAME_BYTES;
      for await (
        const [identity, ...frames] of receiveAll(
          this.sockets.router,
          // Blocking the thread would hold up the completion of remote workers' file I/O.
          () => this.#files.busy ? 0 : BROKER_LINGER_MS,
          cap,
        )
      ) {
        if (!(await this.handle(identity, frames as Uint8Array[]))) continue;
        if (this.#scheduler.done) break;
      }
    } catch (error) {
      if (!this.#fatal && !this.signal.aborted) throw error;
    } finally {
      await this.#files.drain();
      this.#finished = true;
      clearInterval(ticker);
      this.signal.removeEventListener("abort", onAbort);
      await shutdown(this.#locals, this.#pubOutbox, job.bind !== null);
      await closeSockets(this.sockets);
    }
    if (this.#fatal) throw this.#fatal;
    if (job.bind) {
      const payloadsPeak = this.#payloadsPeak, payloadWindow = job.payloadWindow;
      this.#log.debug(
        `payload window: at most ${payloadsPeak} image payload(s) in memory at once (limit ${payloadWindow})`,
        { payloadsPeak, payloadWindow },
      );
    }
    return modeResult(
      this.#scheduler.workers,
      this.#now(),
      (id) => this.#gate.describe(id),
      (task) => this.#byIndex.get(task)?.input,
      (id) => this.#cpuTimes.of(id),
    );
  }
}

/** Runs the tasks on ZeroMQ workers (the `parallel` and `serve` modes). */
export async function runParallel(
  job: Job,
  tasks: Task[],
  recorder: Recorder,
  signal: AbortSignal,
  pool?: EarlyPool,
): Promise<ModeResult> {
  const maxFrame = await maxFrameBytes(job, tasks);
  recorder.log.debug(`largest frame accepted from a worker: ${maxFrame} bytes`);
  const sockets = await openSockets(job, recorder.log, pool, maxFrame);
  return await new Broker(job, tasks, recorder, signal, sockets).run(pool);
}

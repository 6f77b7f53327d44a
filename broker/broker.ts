/**
 * The ZeroMQ broker: on a ROUTER (tasks) and a PUB (broadcasts) bound by
 * `sockets.ts`, starts local workers (and, in `serve` mode, accepts remote
 * ones), feeds the {@link Scheduler} with what the sockets and processes
 * say, one handler per message, and tears everything down when every
 * result is in (`workers.ts` says when a worker is lost and how they end).
 *
 * @module
 */

import {
  decodeWorkerMessage,
  encodeBroadcast,
  encodeMessage,
  HEARTBEAT_MS,
  MAX_STRANGER_FRAME_BYTES,
  type ResultEntry,
  type ServerMessage,
  type WorkerMessage,
} from "../transport/protocol.ts";
import { Outbox, receiveAll } from "../transport/socket_io.ts";
import { Scheduler } from "./scheduler.ts";
import { describeExit, type EarlyPool, type LocalWorker, spawnWorker } from "./pool.ts";
import { type BrokerSockets, closeSockets } from "./sockets.ts";
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
import { RemoteFiles } from "./remote_files.ts";
import { WorkerCpuTimes } from "../run/cpu.ts";
import { Gate, idOf, localName, localWorkerId } from "./gate.ts";
import { printable } from "../transport/schema.ts";
import { Grants } from "./grants.ts";
import { Answers } from "./answers.ts";
import { SharedFs } from "./shared_fs.ts";
import { PayloadWindow } from "./window.ts";

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
  /** Sends what the scheduler assigns (broker/grants.ts). */
  readonly #grants: Grants;
  /** How much of remote workers' payloads may be in memory (broker/window.ts). */
  readonly #window: PayloadWindow;
  /** Books counted answers (broker/answers.ts). */
  readonly #answers: Answers;
  #nextLocal = 1;
  #finished = false;
  #fatal: RunError | null = null;
  #joinedOnce = false;
  #earlyExits = 0;
  /** Each worker's reported process CPU time, for the report. */
  readonly #cpuTimes = new WorkerCpuTimes();
  /** Remote workers' inputs read and outputs written, off the message loop. */
  readonly #files: RemoteFiles;
  /** `serve --shared-fs`: the probe, and the remote workers sent paths (broker/shared_fs.ts). */
  #shared: SharedFs | null = null;

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
    // The payload window bounds remote payloads in memory, whatever the number of workers.
    this.#scheduler = new Scheduler(tasks.map((task) => task.index), {
      maxAttempts: job.maxAttempts,
      canAssign: (id, task) => this.#peers.get(id)?.local !== false || this.#window.hasRoom(task),
      prefetch: job.prefetch,
      batch: job.batch,
      weigh: (id, task) => this.#carriesBytes(id) ? this.#window.inputSize(task) : 0,
      window: job.payloadWindowBytes || Infinity,
      expected: job.workers,
    });
    this.#window = new PayloadWindow({
      job,
      byIndex: this.#byIndex,
      files: this.#files,
      scheduler: this.#scheduler,
      carriesBytes: (id) => this.#carriesBytes(id),
    });
    this.#outbox = new Outbox(
      sockets.router,
      (error) => this.#log.debug(`send failed: ${(error as Error).message}`),
    );
    this.#pubOutbox = new Outbox(sockets.publisher);
    this.#grants = new Grants({
      job,
      byIndex: this.#byIndex,
      scheduler: this.#scheduler,
      files: this.#files,
      recorder,
      now: () => this.#now(),
      peer: (id) => this.#peers.get(id),
      send: (id, message, payload) => this.#sendTo(id, message, payload),
      noteWindow: () => this.#window.note(),
    });
    const dispatch = () => void this.#dispatch();
    this.#answers = new Answers(this.#byIndex, this.#scheduler, this.#files, recorder, dispatch);
  }

  /** Milliseconds since the broker opened. */
  #now(): number {
    return performance.now() - this.#t0;
  }

  /** Whether worker `id` is sent images' bytes: a remote worker not sent paths (--shared-fs
   * workers that passed the probe are marked `local` by broker/shared_fs.ts). */
  #carriesBytes(id: string): boolean {
    return this.#peers.get(id)?.local === false;
  }

  #sendTo(id: string, message: ServerMessage, payload?: Uint8Array | Uint8Array[]): Promise<void> {
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
      this.#lose(id, describeExit(status), false, this.#written());
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

  /** Whether a task's output was written during this run (see `outputsWritten`). */
  #written(): (task: number) => boolean {
    return outputsWritten(this.job, (t) => this.#byIndex.get(t)!, this.#now());
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
    // A batching worker that leaves has started none of the tasks it still holds.
    const graceful = reason === LEFT && scheduler.worker(id)?.batching === true;
    const task = graceful ? null : scheduler.blamed(id, finished);
    const failed = scheduler.lost(id, this.#now(), reason, timedOut, finished, graceful);
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
    this.#shared?.forget(id);
    void this.#dispatch();
  }

  async #dispatch(): Promise<void> {
    await this.#grants.send(this.#scheduler.dispatch(this.#now()));
  }

  /** Every half heartbeat: heartbeats, silence, timeouts, start-up deadline. */
  tick(): void {
    const job = this.job;
    void this.#pubOutbox.send(encodeBroadcast({ type: "heartbeat" }));
    this.sockets.subscribers?.open(); // its events read, never piling up (monitor.ts)
    const t = this.#now();
    for (const peer of [...this.#peers.values()]) {
      const busy = this.#scheduler.worker(peer.id)?.task !== null;
      // A busy local worker is left to --task-timeout; a busy remote one gets longer.
      if (busy && peer.local && this.#locals.has(peer.id)) continue;
      const limit = busy ? busySilenceMs(this.#grants.taskPixels.get(peer.id) ?? 0) : SILENCE_MS;
      if (t - peer.lastSeen > limit) {
        this.#lose(peer.id, `worker silent for ${(limit / 1000).toFixed(1)}s`);
        // A local worker given up on is killed, so that it is replaced.
        killWorker(this.#locals.get(peer.id));
      }
    }
    for (const state of this.#scheduler.overdue(t, job.taskTimeout * 1000)) {
      // A local worker's outputs written since its last answer: a batch it had not reported yet.
      const wrote = this.#locals.has(state.id) ? this.#written() : undefined;
      this.#lose(state.id, `task took longer than --task-timeout ${job.taskTimeout}s`, true, wrote);
      killWorker(this.#locals.get(state.id));
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
    const probe = local ? {} : this.#shared?.probeFor(id, message);
    await this.#sendTo(id, { type: "hello", worker: id, pipeline: job.pipeline, ...probe });
  }

  /** A worker asks for work (possibly ahead, while it writes its current output). */
  async onReady(id: string, message: Incoming<"ready">, peer: Peer | undefined): Promise<void> {
    if (!peer) return;
    this.#shared?.answered(id, message, peer);
    const ahead = message.finishing !== undefined &&
      this.#scheduler.worker(id)?.task === message.finishing;
    const now = this.#now();
    await this.#grants.send(
      message.want !== undefined
        ? this.#scheduler.request(id, now, message.want)
        : [this.#scheduler.ready(id, now, ahead)].filter((a) => a !== null),
    );
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
    const end = this.#judge(id, peer, message, payload);
    const counted = end !== null &&
      scheduler.result(id, message.task, end, this.#now(), message.attempt);
    // The worker is waiting: its next task goes out before the bookkeeping.
    if (message.more && !scheduler.done) {
      const assignment = scheduler.ready(id, this.#now());
      if (assignment) await this.#grants.send([assignment]);
    }
    if (counted) this.#answers.book(id, peer, message, payload, end);
    if (scheduler.done) return;
    await this.#dispatch();
  }

  /**
   * A batching worker answers several tasks at once (its successes' bytes,
   * if remote, one frame each in order) and asks for more: as {@link onResult}
   * for each, the next grant out before the bookkeeping.
   */
  async onResults(
    id: string,
    message: Incoming<"results">,
    payloads: Uint8Array[],
    peer: Peer | undefined,
  ): Promise<void> {
    if (!peer) return;
    const now = this.#now(), scheduler = this.#scheduler;
    this.#cpuTimes.note(id, message.cpu, now / 1000);
    let frame = 0;
    const counting = message.results.flatMap((entry) => {
      const payload = entry.ok ? payloads[frame++] ?? null : null;
      const end = this.#judge(id, peer, entry, payload);
      return end === null ? [] : [{ ...entry, entry, payload, end }];
    });
    const counted = scheduler.results(id, counting, now);
    if (!scheduler.done) await this.#grants.send(scheduler.request(id, now, message.want));
    counting.forEach((j, i) =>
      counted[i] && this.#answers.book(id, peer, j.entry, j.payload, j.end)
    );
    if (!scheduler.done) await this.#dispatch();
  }

  /** How `entry` ends its task, or null if this worker has no say (see `Gate.judge`). */
  #judge(id: string, peer: Peer, entry: ResultEntry, payload: Uint8Array | null) {
    const holds = this.#byIndex.has(entry.task) &&
      this.#scheduler.holds(id, entry.task, entry.attempt);
    const end = this.#gate.judge(id, peer.local, entry, payload, holds);
    // A --shared-fs worker's output counts once this server sees it (broker/shared_fs.ts).
    if (!end?.ok || !entry.ok) return end;
    return this.#shared?.checkOutput(id, this.#byIndex.get(entry.task)!, entry) ?? end;
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
      case "results":
        await this.onResults(id, message, decoded.payloads ?? [], peer);
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
    this.#shared = await SharedFs.open(job, this.tasks, this.#log, (id) => this.#gate.name(id));
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
      const written = this.signal.aborted ? this.#written() : () => false;
      this.#answers.countWritten(this.#gate.localIds, written, this.#now());
      await this.#files.drain();
      this.#shared?.close();
      this.#finished = true;
      clearInterval(ticker);
      this.signal.removeEventListener("abort", onAbort);
      await shutdown(this.#locals, this.#pubOutbox, this.sockets.subscribers);
      await closeSockets(this.sockets);
    }
    if (this.#fatal) throw this.#fatal;
    if (job.bind) this.#log.debug(...this.#window.summary());
    return modeResult(
      this.#scheduler.workers,
      this.#now(),
      (id) => this.#gate.describe(id),
      (task) => this.#byIndex.get(task)?.input,
      (id) => this.#cpuTimes.of(id),
    );
  }
}

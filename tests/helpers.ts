/**
 * Shared helpers of the integration tests: temporary folders, running zpix
 * as a real subprocess, looking at its child processes in /proc, a bare
 * ROUTER + PUB "server" for talking to real workers, a fake worker on a real
 * DEALER for talking to a real server, the tasks' permission flags and free
 * TCP ports.
 *
 * @module
 */

import * as zmq from "../transport/zmq.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Broadcast,
  broadcastEndpoint,
  decodeServerMessage,
  decodeWorkerMessage,
  encodeBroadcast,
  encodeMessage,
  type ServerMessage,
  type WorkerMessage,
} from "../transport/protocol.ts";
import { Outbox, receiveAll, SOCKET_OPTIONS } from "../transport/socket_io.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import type { WritableFormat } from "../ops/formats.ts";
import type { Pipeline } from "../core/job.ts";
import { remoteWorkerReads } from "../worker/processes.ts";

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "zpix-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The permission flags of `deno task parallel` (deno.json), with absolute paths. */
export const ZPIX_FLAGS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  `--allow-ffi=${join(SOURCE_ROOT, "node_modules")}`,
  `--allow-run=${Deno.execPath()}`,
  "--allow-env=INIT_CWD",
  "--allow-sys=cpus",
];

/** What a finished zpix process said. */
export interface ZpixOutput {
  /** Exit code. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr. */
  stderr: string;
}

/** A running zpix process. */
export interface ZpixProcess {
  /** Its process id. */
  pid: number;
  /** The process. */
  child: Deno.ChildProcess;
  /** Resolves when it exits, with its output. */
  output: Promise<ZpixOutput>;
}

/** The arguments of `deno run main.ts ARGS` with `flags` (those of `deno task parallel`). */
export function zpixArgs(args: string[], flags: readonly string[] = ZPIX_FLAGS): string[] {
  return ["run", "--quiet", ...flags, join(SOURCE_ROOT, "main.ts"), ...args];
}

/** Starts `deno run main.ts ARGS` with the flags of `deno task parallel` (or `options.flags`). */
export function spawnZpix(
  args: string[],
  options: { env?: Record<string, string>; flags?: readonly string[] } = {},
): ZpixProcess {
  const flags = options.flags ?? ZPIX_FLAGS;
  const child = new Deno.Command(Deno.execPath(), {
    args: zpixArgs(args, flags),
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output().then((out) => ({
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  }));
  return { pid: child.pid, child, output };
}

/** Runs zpix to the end. */
export function zpix(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<ZpixOutput> {
  return spawnZpix(args, options).output;
}

/**
 * Runs `zpix serve ARGS` on a free TCP endpoint with no local worker, and one
 * `zpix worker` in its sandbox (`deno task worker`'s flags) connected to it;
 * both are killed if they run past `ms`. Returns what the server said.
 */
export async function serveToRemoteWorker(args: string[], ms = 90_000): Promise<ZpixOutput> {
  const endpoint = freeEndpoint();
  const server = spawnZpix(["serve", "--bind", endpoint, "--workers", "0", ...args], {
    flags: SERVE_FLAGS,
  });
  const worker = spawnZpix(["worker", "--connect", endpoint, "--server-timeout", "3"], {
    flags: WORKER_FLAGS,
  });
  const timer = setTimeout(() => {
    for (const p of [server, worker]) {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // gone
      }
    }
  }, ms);
  try {
    const result = await server.output;
    await worker.output;
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** One running process. */
export interface ProcessInfo {
  /** Process id. */
  pid: number;
  /** Parent's process id. */
  ppid: number;
  /** Its command line. */
  args: string[];
}

// Deno lets only --allow-all read /proc, which tests do not get: a short-lived helper may.
const PS_SCRIPT = `
const out = [];
for (const entry of Deno.readDirSync("/proc")) {
  if (!/^[0-9]+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
  try {
    const stat = Deno.readTextFileSync("/proc/" + entry.name + "/stat");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const args = Deno.readTextFileSync("/proc/" + entry.name + "/cmdline").split("\\0");
    out.push({ pid: Number(entry.name), ppid, args: args.filter(Boolean) });
  } catch { /* gone */ }
}
console.log(JSON.stringify(out));
`;

/** Every process on this (Linux) machine, read from /proc by a helper process. */
export async function processTable(): Promise<ProcessInfo[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--no-config", "-A", PS_SCRIPT],
    stdin: "null",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Live children of `pid` that run `main.ts worker`, by worker name (`--id` up to its `.`: `w1`). */
export async function workerChildren(pid: number): Promise<Map<string, ProcessInfo>> {
  const out = new Map<string, ProcessInfo>();
  for (const proc of await processTable()) {
    const at = proc.args.indexOf("--id");
    if (proc.ppid === pid && proc.args.includes("worker") && at >= 0) {
      out.set(proc.args[at + 1].split(".")[0], proc);
    }
  }
  return out;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** The next value of `iterator`, or an error after `ms`. */
export async function nextWithin<T>(
  iterator: AsyncIterator<T>,
  ms: number,
  what = "a message",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      }),
    ]);
    if (next.done) throw new Error(`the socket closed while waiting for ${what}`);
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

/** A message a {@link TestServer} received. */
export interface Received {
  /** The sender's routing id. */
  id: string;
  /** The decoded message. */
  message: WorkerMessage;
  /** Its payload frame, if any. */
  payload: Uint8Array | null;
}

/**
 * A bare server for protocol-level tests: a ROUTER and a PUB bound on
 * ipc:// in `dir`, and nothing else (no scheduling, no heartbeats unless
 * sent by the test).
 */
export class TestServer {
  readonly router = new zmq.Router(SOCKET_OPTIONS);
  readonly publisher = new zmq.Publisher(SOCKET_OPTIONS);
  readonly #outbox = new Outbox(this.router);
  readonly #pubOutbox = new Outbox(this.publisher);
  readonly #incoming = receiveAll(this.router);

  private constructor(readonly endpoint: string) {}

  /** Binds a server on `ipc://DIR/tasks` (and its `.pub` broadcast endpoint). */
  static async open(dir: string): Promise<TestServer> {
    const server = new TestServer(`ipc://${dir}/tasks`);
    await server.router.bind(server.endpoint);
    await server.publisher.bind(broadcastEndpoint(server.endpoint));
    return server;
  }

  /** The next message from any worker, within `ms`. */
  async next(ms = 15_000): Promise<Received> {
    const [identity, ...frames] = await nextWithin(this.#incoming, ms);
    const { message, payload } = decodeWorkerMessage(frames as Uint8Array[]);
    return { id: new TextDecoder().decode(identity), message, payload };
  }

  /** The next message of type `type`, skipping heartbeats. */
  async expect<T extends WorkerMessage["type"]>(
    type: T,
    ms = 15_000,
  ): Promise<Received & { message: Extract<WorkerMessage, { type: T }> }> {
    for (;;) {
      const received = await this.next(ms);
      if (received.message.type === "heartbeat" && type !== "heartbeat") continue;
      if (received.message.type !== type) {
        throw new Error(`expected ${type}, got ${JSON.stringify(received.message)}`);
      }
      return received as Received & { message: Extract<WorkerMessage, { type: T }> };
    }
  }

  /** Sends a message to one worker (a `tasks` grant: one payload frame a task). */
  send(id: string, message: ServerMessage, payload?: Uint8Array | Uint8Array[]): Promise<void> {
    return this.#outbox.send([new TextEncoder().encode(id), ...encodeMessage(message, payload)]);
  }

  /** Publishes a broadcast. */
  broadcast(message: Broadcast): Promise<void> {
    return this.#pubOutbox.send(encodeBroadcast(message));
  }

  /** Closes both sockets. */
  close(): void {
    this.router.close();
    this.publisher.close();
  }
}

/** The permission flags of `deno task worker` (deno.json): no access to any image folder. */
export const WORKER_FLAGS: readonly string[] = [
  `--allow-read=${remoteWorkerReads().join(",")}`,
  `--allow-ffi=${join(SOURCE_ROOT, "node_modules")}`,
  "--allow-env=ZPIX_TOKEN",
  "--allow-sys=hostname",
  `--allow-run=${Deno.execPath()}`,
];

/** The permission flags of `deno task serve` (deno.json). */
export const SERVE_FLAGS: readonly string[] = [
  ...ZPIX_FLAGS.filter((flag) => !flag.startsWith("--allow-env")),
  "--allow-env=ZPIX_TOKEN,INIT_CWD",
];

/** TCP ports in use (any state), from /proc/net. */
function usedPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const [, local] = line.trim().split(/\s+/);
      if (local) ports.add(parseInt(local.split(":").at(-1)!, 16));
    }
  }
  return ports;
}

/** A free pair of ports on 127.0.0.1 below the ephemeral range. */
export function freeEndpoint(): string {
  const busy = usedPorts();
  for (;;) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    if (!busy.has(port) && !busy.has(port + 1)) return `tcp://127.0.0.1:${port}`;
  }
}

/**
 * A successful `result` for `task` whose output is `bytes` bytes of `format`,
 * 1x1, with zero timings: what the fake peers of the tests answer.
 */
export function doneResult(
  task: { task: number; attempt: number },
  bytes: number,
  format: WritableFormat = "jpeg",
  more = true,
): WorkerMessage {
  return {
    type: "result",
    task: task.task,
    attempt: task.attempt,
    more,
    ok: true,
    width: 1,
    height: 1,
    bytes,
    warnings: [],
    timings: { read: 0, decode: 0, ops: 0, steps: {}, encode: 0, write: 0 },
    format,
  };
}

/** The test playing a remote worker over a real DEALER: it does only what it is told. */
export class FakeWorker {
  readonly dealer: zmq.Dealer;
  readonly #outbox: Outbox;
  readonly #incoming: AsyncGenerator<Uint8Array[]>;
  #beat: ReturnType<typeof setInterval> | undefined;

  /** Heartbeats sent since {@link join}. */
  heartbeats = 0;

  /** @param heartbeatMs how often it sends heartbeats once joined (a real worker: 500) */
  constructor(endpoint: string, readonly id: string, readonly heartbeatMs = 250) {
    this.dealer = new zmq.Dealer({ ...SOCKET_OPTIONS, routingId: id });
    this.dealer.connect(endpoint);
    this.#outbox = new Outbox(this.dealer);
    this.#incoming = receiveAll(this.dealer);
  }

  send(message: WorkerMessage, payload?: Uint8Array | Uint8Array[]): Promise<void> {
    return this.#outbox.send(encodeMessage(message, payload));
  }

  /** Sends raw frames, valid or not. */
  sendRaw(frames: Uint8Array[]): Promise<void> {
    return this.#outbox.send(frames);
  }

  async next(ms = 15_000): Promise<{ message: ServerMessage; payload: Uint8Array | null }> {
    return decodeServerMessage(await nextWithin(this.#incoming, ms) as Uint8Array[]);
  }

  /** The next task (name, index, attempt, payload). */
  async task(): Promise<{ name: string; task: number; attempt: number; payload: Uint8Array }> {
    const { message, payload } = await this.next();
    assert.equal(message.type, "task", JSON.stringify(message));
    if (message.type !== "task") throw new Error("unreachable");
    assert.ok(payload, "a remote task carries its bytes");
    return { name: message.name, task: message.task, attempt: message.attempt, payload };
  }

  /**
   * Joins, takes the hello, asks for work (with `want`, as a batching worker
   * asks: several tasks at once), and keeps sending heartbeats.
   */
  async join(want?: number): Promise<void> {
    await this.send({ type: "join", pid: 1, host: "fake", local: false, token: null });
    assert.equal((await this.next()).message.type, "hello");
    await this.send(want === undefined ? { type: "ready" } : { type: "ready", want });
    this.#beat = setInterval(() => {
      this.heartbeats++;
      void this.send({ type: "heartbeat" });
    }, this.heartbeatMs);
  }

  /** Answers a task as done (with `payload` as the output's bytes, if any). */
  succeed(
    task: { task: number; attempt: number },
    payload?: Uint8Array,
    format: WritableFormat = "jpeg",
  ): Promise<void> {
    return this.send(doneResult(task, payload?.length ?? 0, format), payload);
  }

  /**
   * Answers a batch of tasks as done, in one `results` (with `payload` as
   * each output's bytes), asking for `want` more.
   */
  succeedAll(
    tasks: readonly { task: number; attempt: number }[],
    payload: Uint8Array,
    want: number,
  ): Promise<void> {
    const results = tasks.map((task) => {
      const { type: _type, more: _more, ...entry } = doneResult(task, payload.length) as Extract<
        WorkerMessage,
        { type: "result" }
      >;
      return entry;
    });
    return this.send({ type: "results", results, want }, tasks.map(() => payload));
  }

  close(): void {
    clearInterval(this.#beat);
    this.dealer.close();
  }
}

/** Images/s between the progress points at 10% and 90% of `total`. */
export function steadyRate(progress: [number, number][], total: number): number | undefined {
  const a = progress.find(([, done]) => done >= total * 0.1);
  const b = progress.findLast(([, done]) => done <= total * 0.9);
  return a && b && b[0] > a[0] ? (b[1] - a[1]) / (b[0] - a[0]) : undefined;
}

/**
 * A pipeline that resizes to fit `size` x `size` and encodes with the fast
 * encoder (a test's or bench's pipeline, without parsing flags).
 */
export function fitPipeline(
  size: number,
  format: Pipeline["format"] = "jpeg",
  quality = 80,
): Pipeline {
  return {
    steps: [{ op: "resize", width: size, height: size, fit: "inside" }],
    format,
    quality,
    encoder: "fast",
    maxPixels: 1e8,
  };
}

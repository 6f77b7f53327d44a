/**
 * Helpers of the hostile-peer tests: `zpix serve` on a free 127.0.0.1 port,
 * real workers, a raw peer that speaks (or mangles) the wire protocol over a
 * real DEALER, and the server's memory from /proc.
 *
 * @module
 */

import * as zmq from "../transport/zmq.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Decoded,
  decodeServerMessage,
  encodeMessage,
  type ServerMessage,
  type WorkerMessage,
} from "../transport/protocol.ts";
import { Outbox, receiveAll, SOCKET_OPTIONS } from "../transport/socket_io.ts";
import { writeSamples } from "../cli/demo.ts";
import type { WritableFormat } from "../ops/formats.ts";
import type { Report } from "../report/report.ts";
import {
  doneResult,
  freeEndpoint,
  nextWithin,
  SERVE_FLAGS,
  sleep,
  spawnZpix,
  WORKER_FLAGS,
  type ZpixOutput,
  type ZpixProcess,
} from "./helpers.ts";

/** `zpix serve --bind endpoint` on DIR/in → DIR/out, a JSON report, verbose logs. */
export function serve(
  endpoint: string,
  dir: string,
  extra: string[] = [],
  env?: Record<string, string>,
): ZpixProcess {
  return spawnZpix([
    "serve",
    ...["--bind", endpoint, "-i", join(dir, "in"), "-o", join(dir, "out")],
    ...["--report", join(dir, "report.json"), "--verbose"],
    ...extra,
  ], { flags: SERVE_FLAGS, env });
}

/** `zpix worker --connect endpoint` under `deno task worker`'s sandbox. */
export function realWorker(endpoint: string, extra: string[] = []): ZpixProcess {
  return spawnZpix(["worker", "--connect", endpoint, ...extra], { flags: WORKER_FLAGS });
}

/** Waits for a process, killing it if it runs past `ms`. */
export async function finished(process: ZpixProcess, ms = 90_000): Promise<ZpixOutput> {
  const timer = setTimeout(() => kill(process), ms);
  try {
    return await process.output;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs a process if it still runs. */
export function kill(process: ZpixProcess): void {
  try {
    process.child.kill("SIGKILL");
  } catch {
    // gone
  }
}

/** Writes `count` sample images to DIR/in; their names. */
export async function inputs(dir: string, count: number): Promise<string[]> {
  await writeSamples(join(dir, "in"), count);
  return (await Array.fromAsync(Deno.readDir(join(dir, "in")))).map((e) => e.name).sort();
}

/** The run's JSON report. */
export async function readReport(dir: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
}

/**
 * VmHWM and VmRSS of a process, in MiB (Linux). Read through `cat`: Deno lets
 * only --allow-all read /proc, and `deno task test` grants run but not all.
 */
export function memoryOf(pid: number): { hwm: number; rss: number } {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .outputSync();
  const status = new TextDecoder().decode(out.stdout);
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { hwm: kib("VmHWM") / 1024, rss: kib("VmRSS") / 1024 };
}

/** A valid JPEG that no honest worker writes: what an attacker tries to plant as an output. */
export const PLANTED = new Uint8Array([
  0xff,
  0xd8,
  0xff,
  0xe0,
  ...new TextEncoder().encode("pwned"),
  0xff,
  0xd9,
]);

/** A peer that speaks the wire protocol raw: only what the test tells it. */
export class RawPeer {
  readonly dealer: zmq.Dealer;
  readonly #outbox: Outbox;
  readonly #incoming: AsyncGenerator<Uint8Array[]>;
  #beat: ReturnType<typeof setInterval> | undefined;

  constructor(endpoint: string, readonly id: string, options: zmq.SocketOptions = {}) {
    this.dealer = new zmq.Dealer({ ...SOCKET_OPTIONS, routingId: id, ...options });
    this.dealer.connect(endpoint);
    this.#outbox = new Outbox(this.dealer);
    this.#incoming = receiveAll(this.dealer);
  }

  /** Sends a message (of any shape: the schema is the server's to check). */
  send(message: WorkerMessage | Record<string, unknown>, payload?: Uint8Array): Promise<void> {
    return this.#outbox.send(encodeMessage(message as WorkerMessage, payload));
  }

  /** Sends raw frames. */
  sendFrames(frames: Uint8Array[]): Promise<void> {
    return this.#outbox.send(frames);
  }

  /** The next server message within `ms` (a batch's payloads too). */
  async next(ms = 15_000): Promise<Decoded<ServerMessage>> {
    return decodeServerMessage(await nextWithin(this.#incoming, ms) as Uint8Array[]);
  }

  /** Every message that arrives within `ms`. */
  async drain(ms: number): Promise<ServerMessage[]> {
    const out: ServerMessage[] = [];
    const deadline = performance.now() + ms;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return out;
      try {
        out.push((await this.next(left)).message);
      } catch {
        return out;
      }
    }
  }

  /** Joins with `token`, expects the hello, asks for work. */
  async join(token: string | null): Promise<void> {
    await this.send({ type: "join", pid: 1, host: "raw", local: false, token });
    const hello = await this.next();
    assert.equal(hello.message.type, "hello", JSON.stringify(hello.message));
    await this.send({ type: "ready" });
  }

  /** Heartbeats every 250 ms from now on. */
  beat(): void {
    this.#beat ??= setInterval(() => this.send({ type: "heartbeat" }), 250);
  }

  /** Answers a task with `bytes` as its output. */
  answer(
    task: { task: number; attempt: number },
    bytes: Uint8Array,
    format: WritableFormat,
    more = true,
  ): Promise<void> {
    return this.send(doneResult(task, bytes.length, format, more), bytes);
  }

  /** Gone: no more heartbeats, socket closed. */
  close(): void {
    clearInterval(this.#beat);
    this.dealer.close();
  }
}

/** Resolves after `ms` (re-exported for the tests). */
export { sleep };

export { freeEndpoint, SERVE_FLAGS, WORKER_FLAGS };

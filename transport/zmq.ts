/**
 * ZeroMQ sockets on libzmq's C API (opened by `libzmq.ts`), called through
 * Deno's FFI: the typed subset of zeromq.js's socket API that zpix uses
 * (ROUTER, DEALER, PUB, SUB; options by name; `bind`, `connect`, `send`,
 * `receive`, `readable`, `close`), plus waiting for sockets without
 * blocking the JS thread.
 *
 * Every send and receive here is non-blocking (ZMQ_DONTWAIT): a full or
 * empty socket makes `send`/`receive` reject with an error whose `code` is
 * `"EAGAIN"`, as zeromq.js's do, and `trySend`/`tryReceive` (the hot path:
 * no promise, no Error) return false/null. Waiting is done on the socket's
 * signalling descriptor (ZMQ_FD) with
 * libzmq's own `zmq_poll`: on a helper thread ({@link waitReadable}, the
 * JS thread stays free) or, for a wait that is usually a fraction of a
 * millisecond, on this thread ({@link pollReadable}). The descriptor is
 * edge-triggered: check {@link Socket.readable}, or receive until
 * {@link Socket.tryReceive} finds nothing (either makes libzmq process its
 * pending commands and re-arm it), before each wait.
 *
 * @module
 */

import {
  cString,
  EAGAIN,
  EINTR,
  lib,
  type Library,
  untilDone,
  zmqContext,
  zmqError,
} from "./libzmq.ts";

const ZMQ_PAIR = 0, ZMQ_PUB = 1, ZMQ_SUB = 2, ZMQ_DEALER = 5, ZMQ_ROUTER = 6;

/** libzmq socket option numbers (zmq.h). */
const OPT = {
  routingId: 5,
  subscribe: 6,
  fd: 14,
  events: 15,
  linger: 17,
  reconnectInterval: 18,
  reconnectIntervalMax: 21,
  maxMessageSize: 22,
  sendHighWaterMark: 23,
  receiveHighWaterMark: 24,
  immediate: 39,
  curveServer: 47,
  curvePublicKey: 48,
  curveSecretKey: 49,
  curveServerKey: 50,
} as const;

const ZMQ_DONTWAIT = 1, ZMQ_SNDMORE = 2, ZMQ_POLLIN = 1;

/** zmq_msg_t is 64 bytes, 8-aligned. */
const MSG_BYTES = 64;

const negative = (result: number) => result < 0;
const encoder = new TextEncoder();

/** Options a socket may be created with (zeromq.js names). */
export interface SocketOptions {
  linger?: number;
  receiveHighWaterMark?: number;
  sendHighWaterMark?: number;
  reconnectInterval?: number;
  /** With it, each failed try to connect doubles the pause, from `reconnectInterval` to this (ms). */
  reconnectIntervalMax?: number;
  immediate?: boolean;
  /**
   * Largest frame a peer may send, in bytes (ZMQ_MAXMSGSIZE; -1: no limit):
   * a peer whose frame is larger is disconnected by libzmq before the frame
   * is buffered.
   */
  maxMessageSize?: number;
  routingId?: string;
  curveServer?: boolean;
  curvePublicKey?: string;
  curveSecretKey?: string;
  curveServerKey?: string;
}

/** One ZeroMQ socket (see the module doc). */
export class Socket {
  #handle: Deno.PointerValue;
  #closed = false;
  readonly #l: Library;
  readonly #int = new Int32Array(1);
  readonly #intBytes = new Uint8Array(this.#int.buffer);
  readonly #size = new BigUint64Array(1);
  readonly #sizeBytes = new Uint8Array(this.#size.buffer);
  readonly #msg = new Uint8Array(MSG_BYTES);
  #fd: number | null = null;

  /** Creates a socket of libzmq type `type` with `options`. */
  constructor(type: number, options: SocketOptions = {}) {
    this.#l = lib();
    this.#handle = untilDone(
      this.#l,
      "zmq_socket",
      () => this.#l.zmq_socket(zmqContext(), type),
      (h) => !h,
    );
    for (const [name, value] of Object.entries(options)) {
      if (value !== undefined) this.#set(name as keyof SocketOptions, value);
    }
  }

  #set(name: keyof SocketOptions, value: number | boolean | string): void {
    const option = OPT[name];
    let bytes: Uint8Array;
    if (typeof value === "string") {
      // CURVE keys in Z85 go with their terminating NUL (libzmq's rule); ids as they are.
      bytes = name.startsWith("curve") ? cString(value) : encoder.encode(value);
    } else if (name === "maxMessageSize") {
      // int64_t, the one option of that size zpix sets
      bytes = new Uint8Array(new BigInt64Array([BigInt(value)]).buffer);
    } else {
      this.#int[0] = typeof value === "boolean" ? Number(value) : value;
      bytes = this.#intBytes;
    }
    untilDone(
      this.#l,
      `setting ${name}`,
      () => this.#l.zmq_setsockopt(this.#handle, option, bytes, BigInt(bytes.length)),
      negative,
    );
  }

  #getInt(option: number): number {
    // ZMQ_EVENTS processes pending commands: it too can be interrupted by a signal.
    untilDone(this.#l, "zmq_getsockopt", () => {
      this.#size[0] = 4n;
      return this.#l.zmq_getsockopt(this.#handle, option, this.#intBytes, this.#sizeBytes);
    }, negative);
    return this.#int[0];
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** How long unsent messages are kept after close, in ms (-1: until sent). */
  set linger(ms: number) {
    if (!this.#closed) this.#set("linger", ms);
  }

  /** Whether a message can be received now. */
  get readable(): boolean {
    return !this.#closed && (this.#getInt(OPT.events) & ZMQ_POLLIN) !== 0;
  }

  /** The socket's signalling descriptor (ZMQ_FD), or null once closed. */
  get fd(): number | null {
    if (this.#closed) return null;
    // Fixed for the socket's life: asked of libzmq once, not before every wait.
    return this.#fd ??= this.#getInt(OPT.fd);
  }

  /** Binds to an endpoint (`tcp://HOST:PORT`, `ipc://PATH`). */
  bind(endpoint: string): Promise<void> {
    const address = cString(endpoint);
    try {
      untilDone(
        this.#l,
        `bind ${endpoint}`,
        () => this.#l.zmq_bind(this.#handle, address),
        negative,
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  /** Connects to an endpoint; ZeroMQ retries until a peer is there. */
  connect(endpoint: string): void {
    const address = cString(endpoint);
    untilDone(
      this.#l,
      `connect ${endpoint}`,
      () => this.#l.zmq_connect(this.#handle, address),
      negative,
    );
  }

  /** Sends one multipart message without waiting; rejects with code EAGAIN when full. */
  send(frames: Uint8Array[]): Promise<void> {
    try {
      return this.trySend(frames) ? Promise.resolve() : Promise.reject(zmqError(this.#l, "send"));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link send} without a promise: false when the socket is full (EAGAIN:
   * nothing was sent), no Error built for it; throws any other failure.
   */
  trySend(frames: Uint8Array[]): boolean {
    if (this.#closed) throw new Error("socket is closed");
    const last = frames.length - 1;
    for (let i = 0; i <= last; i++) {
      const frame = frames[i];
      const flags = i < last ? ZMQ_DONTWAIT | ZMQ_SNDMORE : ZMQ_DONTWAIT;
      while (this.#l.zmq_send(this.#handle, frame, BigInt(frame.length), flags) < 0) {
        const errno = this.#l.zmq_errno();
        // Only the first frame can meet a full queue: the rest of a message always follows.
        if (errno === EAGAIN && i === 0) return false;
        if (errno !== EINTR) throw zmqError(this.#l, "send");
      }
    }
    return true;
  }

  /**
   * Receives one multipart message without waiting; rejects with code EAGAIN
   * when empty. With `cap`, asked once the first frame is in (a ROUTER's
   * routing id), every later frame larger than `cap(first)` bytes is never
   * copied out of libzmq: it comes back empty.
   */
  receive(cap?: (first: Uint8Array) => number): Promise<Uint8Array[]> {
    try {
      const frames = this.tryReceive(cap);
      return frames ? Promise.resolve(frames) : Promise.reject(zmqError(this.#l, "receive"));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link receive} without a promise: null when no message is waiting
   * (EAGAIN, no Error built for it); throws any other failure. A receive
   * that finds nothing has made libzmq process its pending commands, as
   * {@link readable} does: the descriptor is re-armed, so no `readable`
   * check is needed before it. One zmq_msg_t for all the frames (a receive
   * releases what the message held before).
   */
  tryReceive(cap?: (first: Uint8Array) => number): Uint8Array[] | null {
    if (this.#closed) throw new Error("socket is closed");
    const l = this.#l, msg = this.#msg;
    const frames: Uint8Array[] = [];
    let limit = Infinity;
    l.zmq_msg_init(msg);
    try {
      for (;;) {
        let size: number;
        while ((size = l.zmq_msg_recv(msg, this.#handle, ZMQ_DONTWAIT)) < 0) {
          const errno = l.zmq_errno();
          // Only the first frame can be missing: the rest of a message is there with it.
          if (errno === EAGAIN && frames.length === 0) return null;
          if (errno !== EINTR) throw zmqError(l, "receive");
        }
        const keep = size <= limit ? size : 0;
        const frame = new Uint8Array(keep);
        if (keep > 0) l.memcpy(frame, l.zmq_msg_data(msg), BigInt(keep));
        frames.push(frame);
        if (cap && frames.length === 1) limit = cap(frame);
        if (!l.zmq_msg_more(msg)) return frames;
      }
    } finally {
      l.zmq_msg_close(msg);
    }
  }

  /** Subscribes a SUB socket to every topic. */
  subscribe(): void {
    const none = new Uint8Array(0);
    untilDone(
      this.#l,
      "subscribe",
      () => this.#l.zmq_setsockopt(this.#handle, OPT.subscribe, none, 0n),
      negative,
    );
  }

  /**
   * Starts libzmq's monitor on this socket for the `events` (an OR of
   * `EVENT` in monitor.ts) and returns the PAIR socket they arrive on; read
   * it with monitor.ts's `readEvents`. Close the returned socket before this one.
   */
  monitor(events: number): Socket {
    const endpoint = `inproc://zpix-monitor-${++monitors}`;
    untilDone(
      this.#l,
      "zmq_socket_monitor",
      () => this.#l.zmq_socket_monitor(this.#handle, cString(endpoint), events),
      negative,
    );
    const pair = new Socket(ZMQ_PAIR, { linger: 0 });
    pair.connect(endpoint);
    return pair;
  }

  /** Closes the socket (what is unsent is kept for {@link linger} ms by libzmq). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#l.zmq_close(this.#handle);
    this.#handle = null;
  }
}

let monitors = 0;

/** A ROUTER socket: the broker's task socket. */
export class Router extends Socket {
  constructor(options: SocketOptions = {}) {
    super(ZMQ_ROUTER, options);
  }
}

/** A DEALER socket: a worker's task socket. */
export class Dealer extends Socket {
  constructor(options: SocketOptions = {}) {
    super(ZMQ_DEALER, options);
  }
}

/** A PUB socket: the broker's broadcasts. */
export class Publisher extends Socket {
  constructor(options: SocketOptions = {}) {
    super(ZMQ_PUB, options);
  }
}

/** A SUB socket: a worker's broadcasts. */
export class Subscriber extends Socket {
  constructor(options: SocketOptions = {}) {
    super(ZMQ_SUB, options);
  }
}

/** Whether this libzmq build supports CURVE encryption. */
export function hasCurve(): boolean {
  return lib().zmq_has(cString("curve")) === 1;
}

/** A new CURVE key pair, Z85-encoded (40 characters each). */
export function curveKeyPair(): { publicKey: string; secretKey: string } {
  const l = lib();
  const pub = new Uint8Array(41), sec = new Uint8Array(41);
  if (l.zmq_curve_keypair(pub, sec) !== 0) throw zmqError(l, "zmq_curve_keypair");
  const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, 40));
  return { publicKey: text(pub), secretKey: text(sec) };
}

/** What can be waited on: a socket's signalling descriptor (null once closed). */
export interface Pollable {
  /** The ZMQ_FD descriptor, or null. */
  readonly fd: number | null;
}

/**
 * zmq_pollitem_t's for the sockets' descriptors (those still open), or null
 * when every one is closed.
 */
function pollItems(sockets: Pollable | readonly Pollable[]): Uint8Array<ArrayBuffer> | null {
  const fds = (Array.isArray(sockets) ? sockets : [sockets] as readonly Pollable[])
    .map((socket) => socket.fd).filter((fd) => fd !== null);
  if (fds.length === 0) return null;
  // zmq_pollitem_t on 64-bit: void *socket (8), int fd (4), short events, short revents.
  const items = new Uint8Array(16 * fds.length);
  const view = new DataView(items.buffer);
  fds.forEach((fd, i) => {
    view.setInt32(16 * i + 8, fd, true);
    view.setInt16(16 * i + 12, ZMQ_POLLIN, true);
  });
  return items;
}

/**
 * Resolves when the descriptor of the socket (or of any of the sockets) is
 * signalled, or after `timeoutMs` (so that closing a socket is noticed),
 * waiting on a helper thread: one wait for several sockets costs one
 * hand-over, not one a socket. Call only after each socket's
 * {@link Socket.readable} returned false (or a {@link Socket.tryReceive} null).
 */
export async function waitReadable(
  sockets: Pollable | readonly Pollable[],
  timeoutMs: number,
): Promise<void> {
  const items = pollItems(sockets);
  if (!items) return;
  await lib().zmq_poll(items, items.length / 16, BigInt(timeoutMs));
}

/**
 * Blocks this thread (JS included) until the descriptor of the socket (or
 * of any of the sockets) is signalled or `timeoutMs` passes; returns whether
 * one was signalled. For
 * the short wait right after a message, when the next one is usually a
 * fraction of a millisecond away: the kernel wakes this thread directly,
 * where {@link waitReadable}'s helper thread adds two thread hand-overs.
 */
export function pollReadable(sockets: Pollable | readonly Pollable[], timeoutMs: number): boolean {
  const items = pollItems(sockets);
  return items !== null && lib().zmq_poll_here(items, items.length / 16, BigInt(timeoutMs)) > 0;
}

import { isCompiled } from "../core/runtime.ts";
/**
 * ZeroMQ sockets on libzmq's C API, called through Deno's FFI: the typed
 * subset of zeromq.js's socket API that zpix uses (ROUTER, DEALER, PUB,
 * SUB; options by name; `bind`, `connect`, `send`, `receive`, `readable`,
 * `close`), plus waiting for a socket without blocking the JS thread.
 *
 * The library is libzmq as the `zeromq` npm package (zeromq.js 6.8) builds
 * and ships it: its prebuilt addon exports the whole C API, so this module
 * loads that file with `Deno.dlopen` and never loads zeromq.js's JavaScript
 * or its N-API layer. Measured on this project's VM, for two reasons:
 * - start-up: a Deno process that imports zeromq.js spends 0.14-0.19 s of
 *   CPU before it can connect, one that opens the addon here 0.08-0.11 s;
 *   a parallel run starts three such processes on two cores;
 * - Deno 2.9's libuv shim for N-API addons stops a `uv_poll` handle after
 *   its first callback (denoland/deno#36317), so zeromq.js's awaited
 *   `receive()` can wait forever, and any `receiveTimeout` crashes: zpix
 *   already had to drive zeromq.js with zero timeouts and poll descriptors
 *   itself.
 *
 * Every send and receive here is non-blocking (ZMQ_DONTWAIT): a full or
 * empty socket throws an error whose `code` is `"EAGAIN"`, as zeromq.js's
 * do. Waiting is done on the socket's signalling descriptor (ZMQ_FD) with
 * libzmq's own `zmq_poll`: on a helper thread ({@link waitReadable}, the
 * JS thread stays free) or, for a wait that is usually a fraction of a
 * millisecond, on this thread ({@link pollReadable}). The descriptor is
 * edge-triggered: check {@link Socket.readable} (which makes libzmq process
 * its pending commands and re-arm it) before each wait.
 *
 * @module
 */

const ZMQ_PAIR = 0, ZMQ_PUB = 1, ZMQ_SUB = 2, ZMQ_DEALER = 5, ZMQ_ROUTER = 6;

/** libzmq socket option numbers (zmq.h). */
const OPT = {
  routingId: 5,
  subscribe: 6,
  fd: 14,
  events: 15,
  linger: 17,
  reconnectInterval: 18,
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
/** errno values of the C library libzmq reports through (macOS numbers EAGAIN differently). */
const EAGAIN = Deno.build.os === "darwin" ? 35 : 11, EINTR = 4;

/** zmq_msg_t is 64 bytes, 8-aligned. */
const MSG_BYTES = 64;

const SYMBOLS = {
  zmq_ctx_new: { parameters: [], result: "pointer" },
  zmq_socket: { parameters: ["pointer", "i32"], result: "pointer" },
  zmq_close: { parameters: ["pointer"], result: "i32" },
  zmq_setsockopt: { parameters: ["pointer", "i32", "buffer", "usize"], result: "i32" },
  zmq_getsockopt: { parameters: ["pointer", "i32", "buffer", "buffer"], result: "i32" },
  zmq_bind: { parameters: ["pointer", "buffer"], result: "i32" },
  zmq_connect: { parameters: ["pointer", "buffer"], result: "i32" },
  zmq_send: { parameters: ["pointer", "buffer", "usize", "i32"], result: "i32" },
  zmq_msg_init: { parameters: ["buffer"], result: "i32" },
  zmq_msg_recv: { parameters: ["buffer", "pointer", "i32"], result: "i32" },
  zmq_msg_data: { parameters: ["buffer"], result: "pointer" },
  zmq_msg_more: { parameters: ["buffer"], result: "i32" },
  zmq_msg_close: { parameters: ["buffer"], result: "i32" },
  zmq_errno: { parameters: [], result: "i32" },
  zmq_strerror: { parameters: ["i32"], result: "pointer" },
  zmq_has: { parameters: ["buffer"], result: "i32" },
  zmq_curve_keypair: { parameters: ["buffer", "buffer"], result: "i32" },
  zmq_socket_monitor: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  zmq_poll: { parameters: ["buffer", "i32", "i64"], result: "i32", nonblocking: true },
  zmq_poll_here: { name: "zmq_poll", parameters: ["buffer", "i32", "i64"], result: "i32" },
  // From the C library the addon links: copies out of libzmq's memory without
  // Deno.UnsafePointerView, which needs FFI access to everything (workers have
  // it for the addon's folder only).
  memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
  strlen: { parameters: ["pointer"], result: "usize" },
} as const;

type Library = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let library: Library | undefined;
let context: Deno.PointerValue = null;

/** Where the `zeromq` package keeps its prebuilt addons (`build/manifest.json`). */
function buildFolder(): URL {
  return new URL("../build/", import.meta.resolve("zeromq"));
}

/**
 * The addon files for this platform, best first: same OS, architecture and
 * libc, newest Node-API ABI first (newer builds may need a newer glibc than
 * the machine has; the next one is tried then).
 */
export function addonCandidates(): URL[] {
  const build = buildFolder();
  const manifest: Record<string, string> = JSON.parse(
    Deno.readTextFileSync(new URL("manifest.json", build)),
  );
  const arch = ({ x86_64: "x64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch];
  let libc = "glibc";
  try {
    Deno.statSync("/etc/alpine-release");
    libc = "musl";
  } catch {
    // not Alpine
  }
  return Object.entries(manifest)
    .map(([key, path]) => ({ config: JSON.parse(key), path }))
    .filter(({ config }) =>
      config.os === Deno.build.os && config.arch === arch && config.libc === libc
    )
    .sort((a, b) => b.config.abi - a.config.abi)
    .map(({ path }) => new URL(path, build));
}

/**
 * Opens libzmq (once per process), trying the candidates in turn. A
 * compiled binary's embedded files cannot be `dlopen`ed in place: it
 * copies each candidate to a temporary file first.
 */
function lib(): Library {
  if (library) return library;
  const compiled = isCompiled();
  const errors: string[] = [];
  for (const url of addonCandidates()) {
    try {
      const file = compiled ? copyOut(url) : url.pathname;
      try {
        library = Deno.dlopen(file, SYMBOLS).symbols;
      } finally {
        // A copy is mapped once opened (or useless if not): its file can go.
        if (compiled) Deno.removeSync(file);
      }
      context = library.zmq_ctx_new();
      return library;
    } catch (error) {
      // Without FFI (or write, for a copy) access no candidate can load: say which permission.
      if (error instanceof Deno.errors.NotCapable) throw error;
      errors.push(`${url.pathname}: ${(error as Error).message}`);
    }
  }
  throw new Error(`cannot load libzmq from the zeromq package: ${errors.join("; ")}`);
}

function copyOut(url: URL): string {
  const file = Deno.makeTempFileSync({ prefix: "zpix-libzmq-", suffix: ".node" });
  Deno.writeFileSync(file, Deno.readFileSync(url));
  return file;
}

const encoder = new TextEncoder();
const cString = (text: string) => encoder.encode(text + "\0");

/** The error of the last failed call, with zeromq.js's `code` names. */
function zmqError(l: Library, what: string): Error & { code: string; errno: number } {
  const errno = l.zmq_errno();
  const message = l.zmq_strerror(errno);
  const bytes = new Uint8Array(Number(l.strlen(message)));
  l.memcpy(bytes, message, BigInt(bytes.length));
  const text = new TextDecoder().decode(bytes);
  const error = new Error(`${what}: ${text}`) as Error & { code: string; errno: number };
  error.errno = errno;
  error.code = errno === EAGAIN ? "EAGAIN" : errno === EINTR ? "EINTR" : `ZMQ_ERRNO_${errno}`;
  return error;
}

/**
 * Calls `call` until it does not fail with EINTR: libzmq calls that wait for
 * its I/O thread (bind, connect, socket creation, option changes) return
 * EINTR when a signal lands meanwhile (a child's SIGCHLD, a profiler's
 * SIGPROF). Throws any other failure, described by `what`.
 */
function untilDone<T>(l: Library, what: string, call: () => T, failed: (result: T) => boolean): T {
  for (;;) {
    const result = call();
    if (!failed(result)) return result;
    const error = zmqError(l, what);
    if (error.errno !== EINTR) throw error;
  }
}

const negative = (result: number) => result < 0;

/** Options a socket may be created with (zeromq.js names). */
export interface SocketOptions {
  linger?: number;
  receiveHighWaterMark?: number;
  sendHighWaterMark?: number;
  reconnectInterval?: number;
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

  /** Creates a socket of libzmq type `type` with `options`. */
  constructor(type: number, options: SocketOptions = {}) {
    this.#l = lib();
    this.#handle = untilDone(
      this.#l,
      "zmq_socket",
      () => this.#l.zmq_socket(context, type),
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
    return this.#closed ? null : this.#getInt(OPT.fd);
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
    if (this.#closed) return Promise.reject(new Error("socket is closed"));
    for (let i = 0; i < frames.length; i++) {
      const flags = ZMQ_DONTWAIT | (i < frames.length - 1 ? ZMQ_SNDMORE : 0);
      const frame = frames[i];
      while (this.#l.zmq_send(this.#handle, frame, BigInt(frame.length), flags) < 0) {
        const error = zmqError(this.#l, "send");
        // Only the first frame can meet a full queue: the rest of a message always follows.
        if (error.errno !== EINTR) return Promise.reject(error);
      }
    }
    return Promise.resolve();
  }

  /**
   * Receives one multipart message without waiting; rejects with code EAGAIN
   * when empty. With `cap`, asked once the first frame is in (a ROUTER's
   * routing id), every later frame larger than `cap(first)` bytes is never
   * copied out of libzmq: it comes back empty.
   */
  receive(cap?: (first: Uint8Array) => number): Promise<Uint8Array[]> {
    if (this.#closed) return Promise.reject(new Error("socket is closed"));
    const frames: Uint8Array[] = [];
    let limit = Infinity;
    const msg = this.#msg;
    do {
      this.#l.zmq_msg_init(msg);
      let size: number;
      while ((size = this.#l.zmq_msg_recv(msg, this.#handle, ZMQ_DONTWAIT)) < 0) {
        const error = zmqError(this.#l, "receive");
        if (error.errno !== EINTR) {
          this.#l.zmq_msg_close(msg);
          return Promise.reject(error);
        }
      }
      const keep = size <= limit ? size : 0;
      const frame = new Uint8Array(keep);
      if (keep > 0) this.#l.memcpy(frame, this.#l.zmq_msg_data(msg), BigInt(keep));
      frames.push(frame);
      if (cap && frames.length === 1) limit = cap(frame);
      const more = this.#l.zmq_msg_more(msg);
      this.#l.zmq_msg_close(msg);
      if (!more) break;
    } while (true);
    return Promise.resolve(frames);
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

/** A zmq_pollitem_t for the socket's descriptor, or null once it is closed. */
function pollItem(socket: Pollable): Uint8Array<ArrayBuffer> | null {
  const fd = socket.fd;
  if (fd === null) return null;
  // zmq_pollitem_t on 64-bit: void *socket (8), int fd (4), short events, short revents.
  const item = new Uint8Array(16);
  const view = new DataView(item.buffer);
  view.setInt32(8, fd, true);
  view.setInt16(12, ZMQ_POLLIN, true);
  return item;
}

/**
 * Resolves when the socket's descriptor is signalled, or after `timeoutMs`
 * (so that closing the socket is noticed), waiting on a helper thread.
 * Call only after {@link Socket.readable} returned false.
 */
export async function waitReadable(socket: Pollable, timeoutMs: number): Promise<void> {
  const item = pollItem(socket);
  if (!item) return;
  await lib().zmq_poll(item, 1, BigInt(timeoutMs));
}

/**
 * Blocks this thread (JS included) until the socket's descriptor is
 * signalled or `timeoutMs` passes; returns whether it was signalled. For
 * the short wait right after a message, when the next one is usually a
 * fraction of a millisecond away: the kernel wakes this thread directly,
 * where {@link waitReadable}'s helper thread adds two thread hand-overs.
 */
export function pollReadable(socket: Pollable, timeoutMs: number): boolean {
  const item = pollItem(socket);
  return item !== null && lib().zmq_poll_here(item, 1, BigInt(timeoutMs)) > 0;
}

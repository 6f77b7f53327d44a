/**
 * Waiting for a ZeroMQ socket to become readable without zeromq.js's
 * poller (see the note on socket I/O in `server/protocol.ts`).
 *
 * libzmq gives each socket a file descriptor (ZMQ_FD) that is signalled
 * when the socket's state may have changed. We block on it with libzmq's
 * own `zmq_poll`, exported by the zeromq.js addon that is already loaded,
 * called through Deno's FFI as a `nonblocking` call (it runs on a helper
 * thread; the JS thread stays free). The FD is edge-triggered: callers must
 * check `socket.readable` (which makes libzmq process its pending commands
 * and re-arm the FD) before each wait, as `receiveAll` does.
 *
 * Without FFI access to the addon (or on a platform where it cannot be
 * found), {@link waitReadable} falls back to a short timer, as before.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** ZMQ_FD, the socket option holding the socket's signalling descriptor. */
const ZMQ_FD = 14;
/** ZMQ_POLLIN. */
const POLLIN = 1;

/** The parts of a zeromq.js socket this module uses. */
export interface FdSocket {
  /** True once closed. */
  readonly closed: boolean;
}

const SYMBOLS = {
  zmq_poll: { parameters: ["buffer", "i32", "i64"], result: "i32", nonblocking: true },
  zmq_poll_here: { name: "zmq_poll", parameters: ["buffer", "i32", "i64"], result: "i32" },
} as const;

type PollLibrary = Deno.DynamicLibrary<typeof SYMBOLS>;

let library: PollLibrary | null | undefined;

/**
 * The zeromq.js addon file for this platform, chosen from the package's
 * build manifest as its loader (cmake-ts) does: same OS, architecture and
 * libc, the highest Node-API ABI not above this runtime's.
 */
export function addonPath(): string | null {
  try {
    const lib = fileURLToPath(import.meta.resolve("zeromq"));
    const build = join(dirname(dirname(lib)), "build");
    const manifest: Record<string, string> = JSON.parse(
      Deno.readTextFileSync(join(build, "manifest.json")),
    );
    const arch = ({ x86_64: "x64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch];
    const libc = existsSync("/etc/alpine-release") ? "musl" : "glibc";
    const abi = Number(process.versions.modules);
    let best: { abi: number; path: string } | null = null;
    for (const [key, path] of Object.entries(manifest)) {
      const config = JSON.parse(key) as { os: string; arch: string; libc: string; abi: number };
      if (config.os !== Deno.build.os || config.arch !== arch || config.libc !== libc) continue;
      if (config.abi <= abi && (!best || config.abi > best.abi)) best = { abi: config.abi, path };
    }
    return best ? join(build, best.path) : null;
  } catch {
    return null;
  }
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function open(): PollLibrary | null {
  if (library !== undefined) return library;
  library = null;
  const path = addonPath();
  if (!path) return null;
  try {
    library = Deno.dlopen(path, SYMBOLS);
  } catch {
    library = null;
  }
  return library;
}

/** The socket's signalling descriptor, or null if it cannot be read. */
function socketFd(socket: FdSocket): number | null {
  try {
    const fd = (socket as unknown as { getInt32Option(option: number): number }).getInt32Option(
      ZMQ_FD,
    );
    return Number.isInteger(fd) && fd >= 0 ? fd : null;
  } catch {
    return null;
  }
}

/** Whether waits block on the socket's descriptor (true) or fall back to timers. */
export function eventDriven(socket: FdSocket): boolean {
  return open() !== null && socketFd(socket) !== null;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Resolves when the socket's descriptor is signalled, or after `timeoutMs`
 * (so closing the socket is noticed). Call only after `socket.readable`
 * returned false.
 */
export async function waitReadable(socket: FdSocket, timeoutMs: number): Promise<void> {
  const lib = open();
  const item = lib ? pollItem(socket) : null;
  if (!lib || !item) return await pause(Math.min(timeoutMs, 4));
  await lib.symbols.zmq_poll(item, 1, BigInt(timeoutMs));
}

/**
 * Blocks this thread (JS included) until the socket's descriptor is
 * signalled or `timeoutMs` passes; returns whether it was signalled.
 * For the short wait right after a message, when the next one is usually a
 * fraction of a millisecond away: the kernel wakes this thread directly,
 * where {@link waitReadable}'s helper thread adds two thread hand-overs
 * (about 1 ms a task on an otherwise idle 2-core VM). Returns false at once
 * where FFI is not available.
 */
export function pollReadable(socket: FdSocket, timeoutMs: number): boolean {
  const lib = open();
  const item = lib ? pollItem(socket) : null;
  if (!lib || !item) return false;
  return lib.symbols.zmq_poll_here(item, 1, BigInt(timeoutMs)) > 0;
}

/** A zmq_pollitem_t for the socket's descriptor, or null. */
function pollItem(socket: FdSocket): Uint8Array<ArrayBuffer> | null {
  const fd = socketFd(socket);
  if (fd === null) return null;
  // zmq_pollitem_t on 64-bit: void *socket (8), int fd (4), short events, short revents.
  const item = new Uint8Array(16);
  const view = new DataView(item.buffer);
  view.setInt32(8, fd, true);
  view.setInt16(12, POLLIN, true);
  return item;
}

import { isCompiled } from "../core/runtime.ts";
/**
 * libzmq itself: the library as the `zeromq` npm package (zeromq.js 6.8)
 * builds and ships it. Its prebuilt addon exports the whole C API, so this
 * module loads that file with `Deno.dlopen` and never loads zeromq.js's
 * JavaScript or its N-API layer. Measured on this project's VM, for two reasons:
 * - start-up: a Deno process that imports zeromq.js spends 0.14-0.19 s of
 *   CPU before it can connect, one that opens the addon here 0.08-0.11 s;
 *   a parallel run starts three such processes on two cores;
 * - Deno 2.9's libuv shim for N-API addons stops a `uv_poll` handle after
 *   its first callback (denoland/deno#36317), so zeromq.js's awaited
 *   `receive()` can wait forever, and any `receiveTimeout` crashes: zpix
 *   already had to drive zeromq.js with zero timeouts and poll descriptors
 *   itself.
 *
 * The sockets on top of it are `zmq.ts`'s.
 *
 * @module
 */

/** errno values of the C library libzmq reports through (macOS numbers EAGAIN differently). */
export const EAGAIN = Deno.build.os === "darwin" ? 35 : 11, EINTR = 4;

const SYMBOLS = {
  zmq_ctx_new: { parameters: [], result: "pointer" },
  // Blocks until every socket of the context is closed and has sent what it held (within its
  // linger): on a thread of its own, so that a caller can stop waiting.
  zmq_ctx_term: { parameters: ["pointer"], result: "i32", nonblocking: true },
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

/** libzmq's functions (and the two of the C library) that zpix calls. */
export type Library = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

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
export function lib(): Library {
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

/** The process's libzmq context (null until {@link lib} opened the library). */
export function zmqContext(): Deno.PointerValue {
  return context;
}

/**
 * Waits at most `ms` for libzmq to put on the wire what the process's closed
 * sockets still hold (each within its linger), by terminating their context;
 * later sockets get a fresh one. Every socket must be closed first, or the
 * wait lasts `ms`. Resolves true if everything went out in time.
 *
 * A process that exits right after closing a socket kills libzmq's I/O
 * thread with the queued messages: a leaving worker's `leave` was lost that
 * way on a loaded machine, with a fixed pause of 200 ms before exiting.
 */
export async function flushClosedSockets(ms: number): Promise<boolean> {
  const library = lib();
  const closing = context;
  context = library.zmq_ctx_new();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      library.zmq_ctx_term(closing).then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function copyOut(url: URL): string {
  const file = Deno.makeTempFileSync({ prefix: "zpix-libzmq-", suffix: ".node" });
  Deno.writeFileSync(file, Deno.readFileSync(url));
  return file;
}

const encoder = new TextEncoder();

/** `text` as a NUL-terminated C string. */
export const cString = (text: string): Uint8Array<ArrayBuffer> => encoder.encode(text + "\0");

/** The error of the last failed call, with zeromq.js's `code` names. */
export function zmqError(l: Library, what: string): Error & { code: string; errno: number } {
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
export function untilDone<T>(
  l: Library,
  what: string,
  call: () => T,
  failed: (result: T) => boolean,
): T {
  for (;;) {
    const result = call();
    if (!failed(result)) return result;
    const error = zmqError(l, what);
    if (error.errno !== EINTR) throw error;
  }
}

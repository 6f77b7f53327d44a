/**
 * Socket I/O for the wire protocol (`protocol.ts`): sending frames without
 * blocking (`Outbox`) and receiving every message of a socket (`receiveAll`).
 * Sockets come from `transport/zmq.ts` (libzmq through Deno's FFI) and never
 * block: a send to a full socket or a receive from an empty one fails with
 * EAGAIN. `Outbox` retries sends; `receiveAll` waits for a quiet socket on
 * its signalling descriptor with libzmq's `zmq_poll`, on a helper thread or,
 * right after a message, briefly on this thread. Sockets are created with
 * {@link SOCKET_OPTIONS}.
 *
 * @module
 */

import { type Pollable, pollReadable, waitReadable } from "./zmq.ts";

/** Longest pause between two looks at a quiet socket, in ms. */
export const MAX_POLL_MS = 4;

/** Options of every zpix socket: what is unsent when it closes is dropped, not waited for. */
export const SOCKET_OPTIONS = { linger: 0 } as const;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Anything frames can be sent on (a `transport/zmq.ts` socket). */
export interface FrameSink {
  /** Sends one multipart message now: false when full (nothing sent); throws other failures. */
  trySend(frames: Uint8Array[]): boolean;
  /** True once closed. */
  readonly closed: boolean;
}

const sent = Promise.resolve();

/**
 * Serialises sends on one socket (one multipart message at a time)
 * and retries while the socket is at its high-water mark. A failed send is
 * reported to `onError`, not thrown. With nothing queued, a message goes out
 * at once, synchronously (no promise chained for it: the common case of a
 * socket below its high-water mark).
 */
export class Outbox {
  #chain: Promise<void> = sent;
  /** Messages waiting in {@link #chain}. */
  #queued = 0;
  /** @param socket where frames go; @param onError told of failed sends */
  constructor(
    readonly socket: FrameSink,
    readonly onError: (error: unknown) => void = () => {},
  ) {}

  async #sendNow(frames: Uint8Array[]): Promise<void> {
    for (
      let wait = 0;
      !this.socket.closed;
      wait = Math.min(MAX_POLL_MS, wait + 1)
    ) {
      if (this.socket.trySend(frames)) return;
      await pause(wait);
    }
  }

  /** Queues frames; resolves once they are handed to ZeroMQ (or failed). */
  send(frames: Uint8Array[]): Promise<void> {
    if (this.#queued === 0) {
      if (this.socket.closed) return sent;
      try {
        if (this.socket.trySend(frames)) return sent;
      } catch (error) {
        this.onError(error);
        return sent;
      }
    }
    this.#queued++;
    this.#chain = this.#chain.then(() => this.#sendNow(frames)).catch(
      this.onError,
    ).finally(() => {
      this.#queued--;
    });
    return this.#chain;
  }
}

/** A socket frames can be received from (a `transport/zmq.ts` socket). */
export interface FrameSource extends Pollable {
  /** Receives one multipart message (frames after the first over `cap(first)` bytes: empty). */
  receive(cap?: (first: Uint8Array) => number): Promise<Uint8Array[]>;
  /** {@link receive} now: null when none is waiting; throws other failures. */
  tryReceive(cap?: (first: Uint8Array) => number): Uint8Array[] | null;
  /** Whether a message is waiting. */
  readonly readable: boolean;
  /** True once closed. */
  readonly closed: boolean;
}

/**
 * Longest a wait for a quiet socket blocks before looking again, in ms: it
 * bounds how late a close is noticed, and the rare wake-up lost when a send
 * on the same socket consumes the descriptor's signal.
 */
export const WAIT_SLICE_MS = 10;

/**
 * Longest stretch, in ms, that {@link receiveAll} keeps the JS thread to
 * itself (receiving back-to-back messages, or blocked in a linger) before it
 * lets the event loop run a turn: timers, signals and child processes
 * are never held up longer than this, or than a longer linger.
 */
export const MAX_HOLD_MS = 20;

/**
 * Receives messages until the socket closes (see the note on socket I/O
 * above). With `linger` (ms), a socket that falls quiet after a message is
 * first waited on blocking this thread until `linger` ms have passed
 * (`pollReadable`, again after a wake-up that brought no message), then on
 * a helper thread: for a busy socket whose next message is usually a few
 * milliseconds away (a worker's next task; a broker's next result), the
 * kernel then wakes this thread directly, where a wait on the helper thread
 * costs ~0.25 ms of CPU (a thread hand-over and an event-loop turn). The
 * event loop still gets a turn at least every {@link MAX_HOLD_MS} (or
 * `linger`, if longer). `cap`: see `Socket.receive` (a broker copies
 * no large frame of a peer that is not a worker). `linger` may be a function,
 * asked before each wait: 0 while the caller awaits other I/O (file reads on
 * Deno's thread pool), whose completions a blocked thread would hold up.
 * `slice`: each wait on the helper thread ends after this many ms (see
 * {@link WAIT_SLICE_MS}); longer for a socket that is never sent on (a SUB),
 * whose only cost is that its close is noticed that much later.
 */
export async function* receiveAll(
  socket: FrameSource,
  linger: number | (() => number) = 0,
  cap?: (first: Uint8Array) => number,
  slice = WAIT_SLICE_MS,
): AsyncGenerator<Uint8Array[]> {
  /** A message came since the last wait: the next wait may linger. */
  let received = false;
  /** Until when this thread may block for the next message. */
  let lingerEnd = 0;
  let turned = performance.now();
  while (!socket.closed) {
    let frames: Uint8Array[] | null = null;
    try {
      // No `readable` check first: a receive that finds nothing re-arms the descriptor too.
      frames = socket.tryReceive(cap);
    } catch (error) {
      if (socket.closed) return;
      throw error;
    }
    const lingerMs = typeof linger === "number" ? linger : linger();
    const now = performance.now();
    const holdEnd = turned + Math.max(MAX_HOLD_MS, lingerMs);
    if (frames) {
      received = true;
      yield frames;
      if (now > holdEnd && lingerMs > 0) {
        // a zero-timeout wait on the helper thread: one turn of the event loop
        await waitReadable(socket, 0);
        turned = performance.now();
      }
    } else if (!socket.closed) {
      if (received) lingerEnd = now + lingerMs;
      received = false;
      const block = Math.ceil(Math.min(lingerEnd, holdEnd) - now);
      if (lingerMs > 0 && block > 0) {
        pollReadable(socket, block);
      } else {
        await waitReadable(socket, slice);
        turned = performance.now();
      }
    }
  }
}

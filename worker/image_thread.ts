/**
 * The image thread of a remote worker: a Web Worker that decodes, applies
 * the pipeline and encodes the bytes a server sent, while the worker's main
 * thread stays free for its sockets, heartbeats and signals.
 *
 * Why a thread: a stage is one synchronous WASM call (a MozJPEG encode of a
 * large image takes about a second). Run on the main thread, a SIGTERM that
 * arrives during it is only dispatched to its listener some milliseconds
 * after the stage returns, and a timer set after the stage could fire first:
 * the worker then answered `more: true` although it had been told to stop
 * (measured: 3 runs in 4 of the SIGTERM test). With the stage on this thread
 * the main thread waits idle, so a signal reaches its listener at once, long
 * before the stage's answer does.
 *
 * Host side: {@link ImageThread}. Thread side: the `onmessage` handler set
 * below when this module runs as a worker.
 *
 * @module
 */

import type { Pipeline } from "../core/job.ts";
import { describeError, type Encoded, pipelineFor, processBytes } from "../task/task.ts";

/** A request to the image thread. */
interface ThreadRequest {
  /** Matches the answer to its request. */
  id: number;
  /** Input file bytes. */
  input: Uint8Array;
  /**
   * The run's pipeline: sent with the first request and again only when it
   * changes (absent: the one the thread was sent last), not cloned with
   * every image.
   */
  pipeline?: Pipeline;
  /** The input's name (for messages and for `--format same`). */
  name: string;
}

/** The image thread's answer: the encoded image, or why it failed. */
export type ThreadAnswer =
  | { id: number; ok: true; encoded: Encoded }
  | { id: number; ok: false; error: string };

/**
 * The host side of the image thread: one Web Worker, one image at a time.
 * Started on first use; {@link ImageThread.close} ends it. Several requests
 * may be under way: the thread takes them in order, the next one waiting in
 * its queue while it computes the current one, so that it goes from one
 * image to the next without waiting for this thread (a worker with a batch
 * hands over the next image ahead: worker.ts).
 */
export class ImageThread {
  #worker: Worker | null = null;
  #next = 0;
  #pending = new Map<number, (answer: ThreadAnswer) => void>();
  /** The pipeline the thread was last sent (it keeps it). */
  #sent: Pipeline | null = null;

  #start(): Worker {
    const worker = new Worker(new URL("./image_thread.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<ThreadAnswer>) => {
      const settle = this.#pending.get(event.data.id);
      this.#pending.delete(event.data.id);
      settle?.(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(`the image thread failed: ${event.message}`);
    };
    return worker;
  }

  #fail(error: string): void {
    for (const [id, settle] of this.#pending) settle({ id, ok: false, error });
    this.#pending.clear();
    this.#worker?.terminate();
    this.#worker = null;
    this.#sent = null;
  }

  /** Starts the thread now, so that its modules load before the first task. */
  warm(): void {
    this.#worker ??= this.#start();
  }

  /**
   * Processes one image on the thread. Never throws: a failure is an answer
   * with `ok: false` and a one-line reason. The bytes are moved to the
   * thread, not copied, when `input` is the whole of its buffer (a frame
   * received by `transport/zmq.ts` is): `input` is then empty here
   * afterwards.
   */
  process(input: Uint8Array, pipeline: Pipeline, name: string): Promise<ThreadAnswer> {
    const worker = this.#worker ??= this.#start();
    const id = this.#next++;
    const request: ThreadRequest = { id, input, name };
    if (pipeline !== this.#sent) request.pipeline = this.#sent = pipeline;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      postMoving(worker, request, input);
    });
  }

  /** Ends the thread; a task in hand is answered with a failure. */
  close(): void {
    this.#fail("the worker is closing");
  }
}

/**
 * Posts `message`, moving `bytes` (part of it) rather than copying them when
 * they span the whole of their buffer: a structured clone copies them twice
 * (serialised, then deserialised), a transfer hands the buffer over. A buffer
 * that cannot be handed over (WASM memory's) is copied.
 */
function postMoving(
  target: { postMessage(message: unknown, transfer: Transferable[]): void },
  message: unknown,
  bytes: Uint8Array | null,
): void {
  const whole = bytes !== null && bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  if (whole) {
    try {
      target.postMessage(message, [bytes.buffer as ArrayBuffer]);
      return;
    } catch {
      // not detachable: copied below
    }
  }
  target.postMessage(message, []);
}

/** Runs one request on this thread, with `pipeline` (the last one sent). */
async function answer(request: ThreadRequest, pipeline: Pipeline): Promise<ThreadAnswer> {
  try {
    // The server names the output after the input (`name`) with format `same`.
    const encoded = await processBytes(request.input, pipelineFor(pipeline, request.name));
    return { id: request.id, ok: true, encoded };
  } catch (error) {
    return { id: request.id, ok: false, error: describeError(error, request.name, request.name) };
  }
}

// Thread side: only when this module is a worker's entry point.
if ("WorkerGlobalScope" in globalThis) {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<ThreadRequest>) => void) | null;
    postMessage(message: ThreadAnswer, transfer: Transferable[]): void;
  };
  let pipeline: Pipeline | null = null;
  // One image at a time, in the order they came: a request that arrives while one is computed
  // (a stage may await, e.g. a codec's first load) waits for it.
  let queue: Promise<void> = Promise.resolve();
  scope.onmessage = (event) => {
    const request = event.data;
    if (request.pipeline) pipeline = request.pipeline;
    const current = pipeline!;
    queue = queue.then(async () => {
      const reply = await answer(request, current);
      // The output moves back when it owns its buffer (the encoders' outputs do); a view of
      // anything larger, WASM memory included, is copied.
      postMoving(scope, reply, reply.ok ? reply.encoded.bytes : null);
    });
  };
}

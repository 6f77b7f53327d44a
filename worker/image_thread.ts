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
 * Why not every image: handing one over and back wakes both threads, dear on
 * busy cores (~0.4 ms of the main thread's CPU an image, most of it wake-ups,
 * for photos that take ~3 ms). An image of at most {@link HERE_MAX_PIXELS}
 * is done on the calling thread, as a local worker does: it holds that
 * thread tens of milliseconds at most, and the event loop runs its timers
 * and looks at signals at least every {@link HERE_HOLD_MS}, even amid a
 * batch's grant, so a signal is seen after that image or one of the next
 * few small ones.
 *
 * Host side: {@link ImageThread}. Thread side: the `onmessage` handler set
 * below when this module runs as a worker.
 *
 * @module
 */

import type { Pipeline } from "../core/job.ts";
import { describeError, type Encoded, pipelineFor, processBytes } from "../task/task.ts";
import { readDimensions, sameFormat } from "../ops/formats.ts";

/**
 * Largest image, in pixels (its input's, or a resize step's box if larger),
 * that {@link ImageThread.process} does on the calling thread instead of
 * handing it over, when it is a JPEG or PNG made into a JPEG by the fast
 * encoder or into a PNG. Such an image holds that thread tens of ms at most
 * (1 MP, median of 7, load 2.2: a JPEG to 512x512 3.3 ms, a PNG to a PNG
 * 21 ms, 31 at most), so heartbeats (every 250 ms) still go out in time,
 * and a SIGTERM is noticed that much (and one more such image) later. The
 * slow encoders are left to the thread: 1 MP took 121 ms with MozJPEG and
 * 78 ms (222 at most) to WebP. What this saves is the hand-over and the
 * wake-ups of two threads an image (docs/performance.md, "Remote workers,
 * a seventh session").
 */
export const HERE_MAX_PIXELS = 1_000_000;

/**
 * Longest run of images done on the calling thread, in ms, before the next
 * one waits for the event loop's timers and signals (a `setTimeout(0)`,
 * ~1-3 ms idle): heartbeats (every 250 ms) and a SIGTERM are then seen
 * within about this much and one image, even amid a batch's grant, at a
 * cost of ~1-3 % of the time.
 */
export const HERE_HOLD_MS = 100;

/**
 * The pixels `input` has or `pipeline` may make of it (a resize step's box),
 * whichever is more; Infinity for an input or output not quick to code.
 */
function weight(input: Uint8Array, pipeline: Pipeline): number {
  let size: ReturnType<typeof readDimensions> = null;
  try {
    size = readDimensions(input);
  } catch {
    // hostile bytes: the thread's decoder says what is wrong with them
  }
  // An image of unknown size is not judged here: the thread takes it.
  if (!size || (size.format !== "jpeg" && size.format !== "png")) return Infinity;
  const output = pipeline.format === "same" ? sameFormat(size.format) : pipeline.format;
  if (output !== "png" && !(output === "jpeg" && pipeline.encoder === "fast")) return Infinity;
  let pixels = size.width * size.height;
  for (const step of pipeline.steps) {
    if (step.op === "resize") pixels = Math.max(pixels, step.width * step.height);
  }
  return pixels;
}

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
  /** When an image done here last let the event loop run (performance.now() ms). */
  #turned = performance.now();

  /**
   * @param hereMaxPixels images up to this size are done on the calling
   * thread ({@link HERE_MAX_PIXELS}; 0: every image goes to the thread)
   */
  constructor(readonly hereMaxPixels = HERE_MAX_PIXELS) {}

  /** Whether {@link ImageThread.process} does `input` on the calling thread (it is small). */
  runsHere(input: Uint8Array, pipeline: Pipeline): boolean {
    return this.hereMaxPixels > 0 && weight(input, pipeline) <= this.hereMaxPixels;
  }

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

  /**
   * Processes one image on the thread. Never throws: a failure is an answer
   * with `ok: false` and a one-line reason. The bytes are moved to the
   * thread, not copied, when `input` is the whole of its buffer (a frame
   * received by `transport/zmq.ts` is): `input` is then empty here
   * afterwards.
   */
  process(input: Uint8Array, pipeline: Pipeline, name: string): Promise<ThreadAnswer> {
    const id = this.#next++;
    if (this.runsHere(input, pipeline)) return this.#here({ id, input, name }, pipeline);
    const worker = this.#worker ??= this.#start();
    const request: ThreadRequest = { id, input, name };
    if (pipeline !== this.#sent) request.pipeline = this.#sent = pipeline;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      postMoving(worker, request, input);
    });
  }

  /**
   * Does a small image on this thread. First, once {@link HERE_HOLD_MS} have
   * passed since the last time, it waits for the event loop's timers and
   * signals: a batching worker's grant of small images is otherwise done
   * without a wait, so no timer (heartbeat, report) fires and no signal is
   * seen until the grant is done.
   */
  async #here(request: ThreadRequest, pipeline: Pipeline): Promise<ThreadAnswer> {
    if (performance.now() - this.#turned > HERE_HOLD_MS) {
      await nextTurn();
      this.#turned = performance.now();
    }
    return owned(await answer(request, pipeline));
  }

  /** Ends the thread; a task in hand is answered with a failure. */
  close(): void {
    this.#fail("the worker is closing");
  }
}

/**
 * Resolves once the event loop has waited for its timers: only a wait lets
 * the runtime look at its clock and signals (a `MessageChannel` round, ready
 * at once, ran no timer in a worker busy with a grant of small images).
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Whether `bytes` spans the whole of an `ArrayBuffer` (not WASM memory's, nor part of one). */
function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer;
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
  if (bytes !== null && ownsBuffer(bytes)) {
    try {
      target.postMessage(message, [bytes.buffer as ArrayBuffer]);
      return;
    } catch {
      // not detachable: copied below
    }
  }
  target.postMessage(message, []);
}

/**
 * An answer whose output owns its buffer: a view of a larger one (WASM
 * memory's, which the next image overwrites) is copied, as a post would.
 */
function owned(reply: ThreadAnswer): ThreadAnswer {
  if (!reply.ok) return reply;
  const bytes = reply.encoded.bytes;
  return ownsBuffer(bytes)
    ? reply
    : { ...reply, encoded: { ...reply.encoded, bytes: bytes.slice() } };
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

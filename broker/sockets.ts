/**
 * The broker's sockets: a ROUTER for tasks and a PUB for broadcasts, bound
 * on a private `ipc://` folder (or `serve --bind`'s endpoint, with CURVE
 * when `--curve-secret` is given), and their teardown.
 *
 * @module
 */

import { makePrivateDir, removePrivateDir } from "./private_dir.ts";
import * as zmq from "../transport/zmq.ts";
import { join } from "node:path";
import { broadcastEndpoint, MAX_BROADCAST_BYTES, MAX_HEADER_BYTES } from "../transport/protocol.ts";
import { SOCKET_OPTIONS } from "../transport/socket_io.ts";
import { type ServerCurve, serverCurve } from "../transport/curve.ts";
import { Connections, EVENT } from "../transport/monitor.ts";
import { RunError } from "../core/errors.ts";
import type { Job, Task } from "../core/job.ts";
import { readDimensions } from "../ops/formats.ts";
import type { Log } from "../core/log.ts";
import type { EarlyPool } from "./pool.ts";

/** A run's bound sockets and where they listen. */
export interface BrokerSockets {
  /** The task endpoint (broadcasts on {@link broadcastEndpoint} of it). */
  endpoint: string;
  /** The private folder of the `ipc://` endpoints, removed at the end; null with `--bind`. */
  privateDir: string | null;
  /** CURVE options and public key (none without `--curve-secret`). */
  curve: ServerCurve;
  /** Tasks and results. */
  router: zmq.Router;
  /** Heartbeats and quit. */
  publisher: zmq.Publisher;
  /**
   * With `--bind`: the workers' broadcast connections open on the PUB, so
   * that the last `quit` is repeated only while some are (broker/workers.ts
   * `shutdown`); null for a private endpoint, whose workers the server waits for.
   */
  subscribers: Connections | null;
}

/** Messages libzmq queues from one peer before it stops reading its connection. */
export const ROUTER_RECEIVE_HWM = 64;

/**
 * Bytes an encoded output may take per pixel, at most: an 8-bit RGBA PNG
 * stores 4 and a filter byte a row; a JPEG at quality 100 of noise stays
 * well under 10 (64 coefficients of at most 27 bits for each 8x8 block of
 * each of 3 components).
 */
const PNG_BYTES_PER_PIXEL = 4.1, JPEG_BYTES_PER_PIXEL = 10;

/** How much of an input is read for its dimensions: most headers are in the first 64 KiB; a
 * JPEG's SOF may follow large EXIF, XMP or ICC data. */
const HEADER_READS = [64 * 1024, 1024 * 1024];

async function headerPixels(path: string, maxPixels: number): Promise<number> {
  let file: Deno.FsFile | null = null;
  try {
    file = await Deno.open(path);
    const buffer = new Uint8Array(HEADER_READS.at(-1)!);
    let filled = 0;
    for (const want of HEADER_READS) {
      for (let n; filled < want && (n = await file.read(buffer.subarray(filled, want)));) {
        filled += n;
      }
      const size = readDimensions(buffer.subarray(0, filled));
      if (size) return Math.min(maxPixels, size.width * size.height);
      if (filled < want) break; // the whole file was read
    }
    return maxPixels;
  } catch {
    return 0; // unreadable: its task fails on the server, nothing comes back
  } finally {
    file?.close();
  }
}

/**
 * The largest frame the server accepts from a worker (its ROUTER's
 * ZMQ_MAXMSGSIZE), from the job: a header, or, with `--bind` (remote workers
 * send outputs back), the largest output this job can produce: the last
 * resize step's size, or without one the largest input's (read from each
 * header, capped by --max-pixels), at the most bytes a pixel its format takes.
 * A peer that sends a larger frame is disconnected before it is buffered.
 */
export async function maxFrameBytes(job: Job, tasks: readonly Task[]): Promise<number> {
  if (!job.bind) return MAX_HEADER_BYTES; // local workers only: results are headers
  const pipeline = job.pipeline;
  const resize = pipeline.steps.findLast((step) => step.op === "resize");
  let pixels = 0;
  if (resize) pixels = resize.width * resize.height;
  else {
    for (const task of tasks) {
      pixels = Math.max(
        pixels,
        await headerPixels(join(job.input, task.input), pipeline.maxPixels),
      );
    }
  }
  const perPixel = pipeline.format === "png" ? PNG_BYTES_PER_PIXEL : JPEG_BYTES_PER_PIXEL;
  return Math.max(MAX_HEADER_BYTES, Math.ceil(pixels * perPixel) + 1024 * 1024);
}

/**
 * Binds the ROUTER and the PUB socket (a private `ipc://` folder unless
 * `--bind`); the ROUTER takes frames of at most `maxFrame` bytes
 * ({@link maxFrameBytes}).
 */
export async function openSockets(
  job: Job,
  log: Log,
  pool?: EarlyPool,
  maxFrame = MAX_HEADER_BYTES,
): Promise<BrokerSockets> {
  const privateDir = pool?.privateDir ??
    (job.bind ? null : makePrivateDir());
  const endpoint = pool?.endpoint ?? job.bind ?? `ipc://${privateDir}/tasks`;
  const curve = await serverCurve(job.curveSecret).catch((error) => {
    throw new RunError((error as Error).message);
  });
  const router = new zmq.Router({
    ...SOCKET_OPTIONS,
    // Per peer: a worker has a few messages in flight; any peer's queue in libzmq is bounded by
    // this many frames of at most maxFrame bytes, drained as fast as the broker can drop them.
    receiveHighWaterMark: ROUTER_RECEIVE_HWM,
    maxMessageSize: maxFrame,
    ...curve.options,
  });
  // A PUB only receives subscriptions.
  const publisher = new zmq.Publisher({
    ...SOCKET_OPTIONS,
    maxMessageSize: MAX_BROADCAST_BYTES,
    ...curve.options,
  });
  const subscribers = job.bind
    ? new Connections(publisher.monitor(EVENT.accepted | EVENT.disconnected))
    : null;
  const sockets = { endpoint, privateDir, curve, router, publisher, subscribers };
  try {
    await router.bind(endpoint);
    await publisher.bind(broadcastEndpoint(endpoint));
  } catch (error) {
    await closeSockets(sockets);
    throw new RunError(`cannot bind ${endpoint}: ${(error as Error).message}`);
  }
  if (job.bind) {
    log.info(
      `listening for workers on ${endpoint} (broadcasts on ${broadcastEndpoint(endpoint)}${
        curve.publicKey ? "; CURVE-encrypted" : ""
      })`,
    );
  }
  return sockets;
}

/** Closes both sockets (and the PUB's monitor) and removes the private folder. */
export async function closeSockets(sockets: BrokerSockets): Promise<void> {
  sockets.subscribers?.close();
  sockets.router.close();
  sockets.publisher.close();
  if (sockets.privateDir) await removePrivateDir(sockets.privateDir);
}

/**
 * A zpix worker: a DEALER for work and a SUB for broadcasts. It joins,
 * receives the pipeline once (`hello`), asks for one task at a time, does
 * it, answers, and asks again, until the server broadcasts `quit` or falls
 * silent.
 *
 * @module
 */

import * as zmq from "zeromq";
import { hostname } from "node:os";
import {
  broadcastEndpoint,
  decodeBroadcast,
  decodeServerMessage,
  encodeMessage,
  HEARTBEAT_MS,
  Outbox,
  receiveAll,
  type ResultMessage,
  SOCKET_OPTIONS,
  SUB_OPTIONS,
  type TaskMessage,
  type WorkerMessage,
} from "../server/protocol.ts";
import type { Pipeline } from "../server/job.ts";
import { describeError, processBytes, processFile } from "./task.ts";
import type { WorkerOptions } from "../server/cli.ts";

/** Exit codes of a worker process. */
export const WORKER_EXIT = { ok: 0, refused: 2, serverGone: 4 } as const;

/** Lets timers (heartbeats) run between the synchronous stages of a task. */
const breathe = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function doTask(
  task: TaskMessage,
  payload: Uint8Array | null,
  pipeline: Pipeline,
): Promise<
  { message: ResultMessage; payload?: Uint8Array }
> {
  const base = {
    type: "result" as const,
    task: task.task,
    attempt: task.attempt,
    more: true,
  };
  if (task.input !== null && task.output !== null) {
    const outcome = await processFile(task.input, task.output, pipeline);
    return {
      message: {
        ...base,
        ...outcome,
        ...(outcome.ok ? { format: formatOf(task.output) } : {}),
      } as ResultMessage,
    };
  }
  if (!payload) {
    return {
      message: { ...base, ok: false, error: "task carried no image bytes" },
    };
  }
  try {
    await breathe();
    const encoded = await processBytes(payload, pipeline);
    return {
      message: {
        ...base,
        ok: true,
        width: encoded.width,
        height: encoded.height,
        bytes: encoded.bytes.length,
        warnings: encoded.warnings,
        timings: encoded.timings,
        format: encoded.format,
      },
      payload: encoded.bytes,
    };
  } catch (error) {
    return {
      message: {
        ...base,
        ok: false,
        error: describeError(error, task.name, task.name),
      },
    };
  }
}

function formatOf(path: string): "jpeg" | "png" {
  return /\.png$/i.test(path) ? "png" : "jpeg";
}

/**
 * Runs one worker until the run ends. Resolves to its exit code:
 * 0 after `quit`, 2 when refused, 4 when the server fell silent.
 */
export async function runWorker(
  options: WorkerOptions,
  log: (line: string) => void = console.error,
): Promise<number> {
  // Local workers share the server's host (and need no --allow-sys for its name).
  const host = options.local ? "local" : hostname();
  const id = options.id ?? `${host}-${Deno.pid}`;
  const dealer = new zmq.Dealer({
    ...SOCKET_OPTIONS,
    routingId: id,
    sendHighWaterMark: 4,
    receiveHighWaterMark: 4,
  });
  const sub = new zmq.Subscriber(SUB_OPTIONS);
  dealer.connect(options.connect);
  sub.connect(broadcastEndpoint(options.connect));
  sub.subscribe();
  const outbox = new Outbox(dealer);
  const send = (message: WorkerMessage, payload?: Uint8Array) =>
    outbox.send(encodeMessage(message, payload));
  let lastHeard = Date.now();
  let exitCode: number | null = null;
  let pipeline: Pipeline | null = null;
  let done = 0;

  const stop = (code: number) => {
    if (exitCode !== null) return;
    exitCode = code;
    dealer.close();
    sub.close();
  };

  const heartbeat = setInterval(() => {
    if (Date.now() - lastHeard > options.serverTimeout * 1000) {
      log(
        `worker ${id}: no word from the server at ${options.connect} for ${options.serverTimeout}s; exiting`,
      );
      stop(WORKER_EXIT.serverGone);
      return;
    }
    if (pipeline) send({ type: "heartbeat" });
  }, HEARTBEAT_MS);

  const broadcasts = (async () => {
    try {
      for await (const frames of receiveAll(sub)) {
        lastHeard = Date.now();
        if (decodeBroadcast(frames as Uint8Array[]).type === "quit") {
          stop(WORKER_EXIT.ok);
        }
      }
    } catch {
      // closed
    }
  })();

  await send({
    type: "join",
    pid: Deno.pid,
    host,
    local: options.local,
    token: options.token,
  });
  try {
    for await (const frames of receiveAll(dealer)) {
      lastHeard = Date.now();
      const { message, payload } = decodeServerMessage(frames as Uint8Array[]);
      if (message.type === "refused") {
        log(`worker ${id}: the server refused this worker: ${message.reason}`);
        stop(WORKER_EXIT.refused);
        break;
      }
      if (message.type === "hello") {
        pipeline = message.pipeline;
        await send({ type: "ready" });
        continue;
      }
      if (!pipeline) continue;
      const result = await doTask(message, payload, pipeline);
      if (exitCode !== null) break;
      done++;
      const more = options.maxTasks === 0 || done < options.maxTasks;
      await send({ ...result.message, more }, result.payload);
      if (!more) {
        // Recycled: leave gracefully; a local server starts a fresh worker.
        await send({ type: "leave" });
        stop(WORKER_EXIT.ok);
        break;
      }
    }
  } catch (error) {
    if (exitCode === null) {
      log(
        `worker ${id}: ${error instanceof Error ? error.message : String(error)}`,
      );
      stop(WORKER_EXIT.serverGone);
    }
  } finally {
    clearInterval(heartbeat);
    stop(exitCode ?? WORKER_EXIT.ok);
    await broadcasts;
  }
  return exitCode ?? WORKER_EXIT.ok;
}

/**
 * The `parallel` and `serve` modes' entry point: opens the broker's sockets
 * (`sockets.ts`) and runs a {@link Broker} on them. main.ts loads this
 * module once FFI is known to be granted.
 *
 * @module
 */

import type { ModeResult, Recorder } from "../run/run.ts";
import type { Job, Task } from "../core/job.ts";
import type { EarlyPool } from "./pool.ts";
import { maxFrameBytes, openSockets } from "./sockets.ts";
import { Broker } from "./broker.ts";

/** Runs the tasks on ZeroMQ workers (the `parallel` and `serve` modes). */
export async function runParallel(
  job: Job,
  tasks: Task[],
  recorder: Recorder,
  signal: AbortSignal,
  pool?: EarlyPool,
): Promise<ModeResult> {
  const maxFrame = await maxFrameBytes(job, tasks);
  recorder.log.debug(`largest frame accepted from a worker: ${maxFrame} bytes`);
  const sockets = await openSockets(job, recorder.log, pool, maxFrame);
  return await new Broker(job, tasks, recorder, signal, sockets).run(pool);
}

/**
 * The modes that run every task in this process: `sequential` (its outputs
 * written behind the next images' work) and `--output -`. Loaded by
 * `run.ts` only when one of them runs: the task code and the codecs it
 * loads (~11 ms of CPU) are not the server's of a parallel run, whose
 * workers do the images.
 *
 * @module
 */

import { join } from "node:path";
import {
  describeError,
  encodeFile,
  pipelineFor,
  processBytes,
  readWhole,
  summarise,
} from "../task/task.ts";
import { WriteBehind } from "./write_behind.ts";
import { describeWriteError } from "../core/atomic.ts";
import type { Mode, TaskResult } from "./recorder.ts";

/**
 * Sequential mode: every task in this process, in order. Each output is
 * written behind the next image's work ({@link WriteBehind}); an outcome is
 * recorded once its file is written, and the run ends (Ctrl-C included) only
 * when every write started has ended.
 */
export const runSequential: Mode = async (job, tasks, recorder, signal) => {
  let workerMs = 0;
  const writes = new WriteBehind();
  try {
    for (const task of tasks) {
      if (signal.aborted) break;
      await writes.turn();
      const started = performance.now();
      const output = join(job.output, task.output);
      const prepared = await encodeFile(join(job.input, task.input), output, job.pipeline);
      workerMs += performance.now() - started;
      if (!prepared.ok) {
        recorder.record(task, prepared);
        continue;
      }
      const { encoded } = prepared;
      await writes.write(output, encoded.bytes, (error, ms) => {
        workerMs += ms;
        encoded.timings.write = ms;
        recorder.record(
          task,
          error === null
            ? { ok: true, ...summarise(encoded) }
            : { ok: false, error: describeWriteError(error, output) },
        );
      });
    }
  } finally {
    await writes.drain();
  }
  return { workers: [], workerMs };
};

/**
 * `--output -`: the one task's image is written to standard output (in this
 * process, whatever the mode: one image needs no workers).
 */
export const runToStdout: Mode = async (job, tasks, recorder) => {
  const [task] = tasks;
  const started = performance.now();
  let result: TaskResult;
  try {
    const path = join(job.input, task.input);
    const input = readWhole(path, Deno.statSync(path).size); // one buffer: no 2x peak
    const read = performance.now() - started;
    const encoded = await processBytes(input, pipelineFor(job.pipeline, task.output));
    const writing = performance.now();
    await writeAll(Deno.stdout, encoded.bytes);
    encoded.timings.read = read;
    encoded.timings.write = performance.now() - writing;
    result = { ok: true, warnings: encoded.warnings, timings: encoded.timings };
  } catch (error) {
    result = { ok: false, error: describeError(error, task.input, "standard output") };
  }
  recorder.record(task, result);
  return { workers: [], workerMs: performance.now() - started };
};

async function writeAll(writer: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  for (let done = 0; done < bytes.length;) done += await writer.write(bytes.subarray(done));
}

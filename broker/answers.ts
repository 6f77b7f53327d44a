/**
 * What the broker does with a worker's counted answer (one the
 * {@link Scheduler} took: see `Gate.judge`): a remote success's output is
 * written off the loop (`remote_files.ts`) and recorded once written, or
 * amended to a failure if it cannot be; anything else is recorded at once.
 *
 * @module
 */

import type { ResultEntry } from "../transport/protocol.ts";
import type { Scheduler, TaskEnd } from "./scheduler.ts";
import type { RemoteFiles } from "./remote_files.ts";
import type { Peer } from "./workers.ts";
import type { Recorder } from "../run/run.ts";
import type { Task } from "../core/job.ts";
import { describeWriteError } from "../core/atomic.ts";

/** Books counted answers: the report's record, a remote output's file. */
export class Answers {
  /**
   * @param byIndex every task by index @param scheduler the run's scheduler
   * @param files remote outputs' writes @param recorder the run's record
   * @param dispatch called when a written output frees room in the payload window
   */
  constructor(
    readonly byIndex: ReadonlyMap<number, Task>,
    readonly scheduler: Scheduler,
    readonly files: RemoteFiles,
    readonly recorder: Recorder,
    readonly dispatch: () => void,
  ) {}

  /** A counted answer of worker `id` for `entry`'s task, which ended as `end`. */
  book(id: string, peer: Peer, entry: ResultEntry, payload: Uint8Array | null, end: TaskEnd): void {
    peer.count++;
    const task = this.byIndex.get(entry.task)!;
    if (entry.ok && end.ok && !peer.local) return this.#writeOutput(id, task, entry, payload!);
    this.recorder.record(
      task,
      entry.ok && end.ok ? entry : { ok: false, error: end.ok ? "" : end.error },
    );
  }

  /**
   * The run was interrupted: each batching local worker's held tasks whose
   * outputs it wrote (`written`), in the order it does them, count as done
   * though their answers never came (see `Recorder.recordWritten`).
   */
  countWritten(locals: Set<string>, written: (task: number) => boolean, now: number): void {
    for (const state of this.scheduler.workers) {
      if (state.left !== null || !state.batching || !locals.has(state.id)) continue;
      for (const task of [...state.held]) {
        if (!written(task) || !this.scheduler.result(state.id, task, { ok: true }, now)) break;
        this.recorder.recordWritten(this.byIndex.get(task)!);
      }
    }
  }

  /** Writes a remote output off the loop; records it once written (or failed, then amended). */
  #writeOutput(id: string, task: Task, message: ResultEntry, bytes: Uint8Array): void {
    this.files.write(task.output, bytes, (error) => {
      if (error === null) this.recorder.record(task, message);
      else {
        const end = { ok: false, error: describeWriteError(error, task.output) } as const;
        this.scheduler.amend(id, task.index, end);
        this.recorder.record(task, end);
      }
      // The payload window has room again.
      if (!this.scheduler.done) this.dispatch();
    });
  }
}

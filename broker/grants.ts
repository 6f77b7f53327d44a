/**
 * Handing tasks to workers: what the {@link Scheduler} assigned goes out as
 * one `task` message a task, or, to a batching worker, as one `tasks`
 * message for all that worker was granted at once. A local worker gets
 * paths; a remote one each image's bytes, read off the broker's loop
 * (`remote_files.ts`) and sent as frames, in the order granted.
 *
 * @module
 */

import { join } from "node:path";
import type { ServerMessage, TaskEntry } from "../transport/protocol.ts";
import type { Assignment, Scheduler } from "./scheduler.ts";
import type { RemoteFiles } from "./remote_files.ts";
import type { Peer } from "./workers.ts";
import type { Recorder } from "../run/run.ts";
import type { Job, Task } from "../core/job.ts";
import { readDimensions } from "../ops/formats.ts";

/** What {@link Grants} needs of its broker. */
export interface GrantContext {
  /** The run's folders. */
  job: Pick<Job, "input" | "output">;
  /** Every task by index. */
  byIndex: ReadonlyMap<number, Task>;
  /** The run's scheduler. */
  scheduler: Scheduler;
  /** Remote workers' file reads. */
  files: RemoteFiles;
  /** Where a task that cannot be read is recorded as failed. */
  recorder: Recorder;
  /** Milliseconds on the broker's clock. */
  now(): number;
  /** The present worker `id`, or undefined once it is lost. */
  peer(id: string): Peer | undefined;
  /** Sends a message (and payload frames) to worker `id`. */
  send(id: string, message: ServerMessage, payload?: Uint8Array | Uint8Array[]): Promise<void>;
  /** Notes the payload window's use (for its peaks) just before remote payloads go out. */
  noteWindow(): void;
}

/** Sends the scheduler's assignments to their workers. */
export class Grants {
  /** Pixels of the largest image each remote worker holds (its silence allowance). */
  readonly taskPixels = new Map<string, number>();

  /** @param context the broker's state and sockets */
  constructor(readonly context: GrantContext) {}

  /**
   * Sends `assignments`, each worker's in the order given: to a batching
   * worker all of its own at once, one `task` a task to any other.
   */
  async send(assignments: readonly Assignment[]): Promise<void> {
    if (assignments.length === 0) return;
    const [first] = assignments;
    if (assignments.length === 1 && !this.context.scheduler.worker(first.worker)?.batching) {
      return await this.#sendTask(first.worker, first.task, first.attempt); // the common case
    }
    const byWorker = new Map<string, Assignment[]>();
    for (const a of assignments) byWorker.set(a.worker, [...byWorker.get(a.worker) ?? [], a]);
    for (const [id, granted] of byWorker) {
      if (this.context.scheduler.worker(id)?.batching) await this.#sendBatch(id, granted);
      else for (const a of granted) await this.#sendTask(id, a.task, a.attempt);
    }
  }

  #entry(taskIndex: number, attempt: number, local: boolean): TaskEntry {
    const { input, output } = this.context.job;
    const task = this.context.byIndex.get(taskIndex)!;
    return {
      task: taskIndex,
      attempt,
      name: task.input,
      input: local ? join(input, task.input) : null,
      output: local ? join(output, task.output) : null,
    };
  }

  async #sendTask(id: string, taskIndex: number, attempt: number): Promise<void> {
    const context = this.context;
    const peer = context.peer(id);
    if (!peer) return; // lost meanwhile: its tasks are requeued
    const message = { type: "task", ...this.#entry(taskIndex, attempt, peer.local) } as const;
    if (peer.local) return await context.send(id, message);
    context.noteWindow();
    // Read off the loop; sent (in this worker's order) unless the task changed hands meanwhile.
    const held = () => context.scheduler.holds(id, taskIndex, attempt);
    context.files.read(id, message.name, async (bytes) => {
      if (!held()) return;
      this.#notePixels(id, [bytes]);
      await context.send(id, message, bytes);
    }, async (error) => {
      if (!held()) return;
      this.#unreadable(id, taskIndex, error);
      const next = context.scheduler.ready(id, context.now());
      if (next) await this.#sendTask(id, next.task, next.attempt);
    });
  }

  /** A grant to a batching worker: one `tasks` message, a remote worker's bytes as its frames. */
  async #sendBatch(id: string, granted: Assignment[]): Promise<void> {
    const context = this.context;
    const peer = context.peer(id);
    if (!peer) return;
    const entries = granted.map((a) => this.#entry(a.task, a.attempt, peer.local));
    if (peer.local) return await context.send(id, { type: "tasks", tasks: entries });
    context.noteWindow();
    const reads = await Promise.all(
      entries.map((entry) =>
        new Promise<Uint8Array | Error>((resolve) => {
          const settle = (read: Uint8Array | Error) => Promise.resolve(resolve(read));
          context.files.read(id, entry.name, settle, settle);
        })
      ),
    );
    // Sent unless a task changed hands meanwhile; one that cannot be read fails, and is replaced.
    const sent: TaskEntry[] = [], payloads: Uint8Array[] = [];
    let unreadable = 0;
    reads.forEach((read, i) => {
      const entry = entries[i];
      if (!context.scheduler.holds(id, entry.task, entry.attempt)) return;
      if (read instanceof Uint8Array) {
        sent.push(entry);
        payloads.push(read);
      } else {
        this.#unreadable(id, entry.task, read);
        unreadable++;
      }
    });
    if (sent.length) {
      this.#notePixels(id, payloads);
      await context.send(id, { type: "tasks", tasks: sent }, payloads);
    }
    const state = context.scheduler.worker(id);
    if (unreadable && state) {
      await this.send(context.scheduler.request(id, context.now(), state.want + unreadable));
    }
  }

  #notePixels(id: string, images: Uint8Array[]): void {
    let pixels = 0;
    for (const bytes of images) {
      const size = readDimensions(bytes);
      pixels = Math.max(pixels, size ? size.width * size.height : 0);
    }
    this.taskPixels.set(id, pixels);
  }

  /** Reading is the server's part of a remote task: its failure is this image's failure. */
  #unreadable(id: string, taskIndex: number, error: Error): void {
    const { scheduler, recorder, byIndex } = this.context;
    const task = byIndex.get(taskIndex)!;
    scheduler.result(id, taskIndex, { ok: false, error: error.message }, this.context.now());
    recorder.record(task, { ok: false, error: `cannot read ${task.input}: ${error.message}` });
  }
}

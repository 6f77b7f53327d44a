/**
 * The payload window (`serve --payload-window`): how much of remote
 * workers' image bytes the server holds in memory at once, inputs read and
 * not yet answered plus outputs not yet written. A size by default
 * (bytes: each remote task weighs its input's size, asked when it is
 * handed out; an output weighs its bytes while it is written on the
 * thread pool), or, as before sizes were accepted, a count of images.
 *
 * @module
 */

import type { Job, Task } from "../core/job.ts";
import type { RemoteFiles } from "./remote_files.ts";
import type { Scheduler } from "./scheduler.ts";

/** What the window is measured with. */
export interface WindowContext {
  /** The window's limits. */
  job: Pick<Job, "payloadWindow" | "payloadWindowBytes">;
  /** Every task by index. */
  byIndex: ReadonlyMap<number, Task>;
  /** Remote workers' file calls (input sizes, writes in flight). */
  files: RemoteFiles;
  /** The run's scheduler: a remote task's weight is its input's bytes. */
  scheduler: Scheduler;
  /** Whether worker `id` is sent images' bytes (a remote worker, paths not shared). */
  carriesBytes(id: string): boolean;
}

/** Whether a remote task may go out now, and the most the window held. */
export class PayloadWindow {
  /** Most remote payloads in memory at once, for the log. */
  imagesPeak = 0;
  /** Most remote payload bytes in memory at once, for the log. */
  bytesPeak = 0;
  /** The last input size asked (a task is weighed just after the window let it out). */
  #sized = { task: -1, size: 0 };

  /** @param context the broker's state */
  constructor(readonly context: WindowContext) {}

  /** Bytes of task `index`'s input now (0 if it cannot be asked: its read then fails the task). */
  inputSize(index: number): number {
    if (this.#sized.task !== index) {
      const name = this.context.byIndex.get(index)!.input;
      this.#sized = { task: index, size: this.context.files.inputSize(name) };
    }
    return this.#sized.size;
  }

  /** Remote payload bytes in memory: inputs out and not answered, outputs being written. */
  bytes(): number {
    return this.context.scheduler.heldWeight + this.context.files.writingBytes;
  }

  /** Remote images in memory: tasks out and not answered, outputs being written. */
  images(): number {
    let sum = this.context.files.writing;
    for (const state of this.context.scheduler.workers) {
      if (state.held.length && this.context.carriesBytes(state.id)) sum += state.held.length;
    }
    return sum;
  }

  /**
   * Whether task `index` may go out to a remote worker: under the count, and
   * within the bytes; an image larger than the whole window goes out alone
   * (when nothing else is in flight), so it never waits forever.
   */
  hasRoom(index: number): boolean {
    const { job } = this.context;
    if (job.payloadWindow > 0 && this.images() >= job.payloadWindow) return false;
    if (job.payloadWindowBytes === 0) return true;
    const bytes = this.bytes();
    return bytes === 0 || bytes + this.inputSize(index) <= job.payloadWindowBytes;
  }

  /** Notes what is in flight now (just before remote payloads are read and sent). */
  note(): void {
    this.imagesPeak = Math.max(this.imagesPeak, this.images());
    this.bytesPeak = Math.max(this.bytesPeak, this.bytes());
  }

  /** The log's line and fields at the end of a `serve` run. */
  summary(): [string, Record<string, number | null>] {
    const { payloadWindow, payloadWindowBytes } = this.context.job;
    const limit = payloadWindow === 0
      ? `${mib(payloadWindowBytes)} MiB`
      : `${payloadWindow} image(s)`;
    return [
      `payload window: at most ${this.imagesPeak} image payload(s), ${
        mib(this.bytesPeak)
      } MiB, in memory at once (limit ${limit})`,
      {
        payloadsPeak: this.imagesPeak,
        payloadBytesPeak: this.bytesPeak,
        payloadWindow: payloadWindow === 0 ? null : payloadWindow,
        payloadWindowBytes: payloadWindowBytes === 0 ? null : payloadWindowBytes,
      },
    ];
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 3 : 1);
}

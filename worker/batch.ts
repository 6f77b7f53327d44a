/**
 * A batching worker's answers (`--batch` > 1): the outcomes of the tasks it
 * finished since its last report, sent together in one `results` message
 * once half of what it may hold is done, or the grant in hand is finished,
 * or the oldest of them is {@link REPORT_MS} old (a timer: so progress
 * still moves while a slow image follows quick ones, and `--task-timeout`,
 * which counts from a worker's last answer, never counts a batch as one
 * task).
 *
 * Why half of `--batch` and not half of each grant: the worker asks for
 * what it has room for, so reporting at half of each grant makes the next
 * grants half as large, and so on down to one task a message. Except for a
 * grant of at most half of `--batch` (the server cut it: large images weigh
 * on the payload window, or the tail of the run): then at half of that
 * grant, so that the next grant comes while the worker finishes this one
 * (the room it asks for, `--batch` less what it holds, stays above such a
 * grant). Without it a remote worker given 5 photos of 24 MP at a time sat
 * idle for a round trip and 19 MB of reads and transfer after each grant:
 * 2 workers, 48 photos, 3.8-3.8 s against 3.2-3.6 s one task at a time.
 * A local worker (no payload window) passes no `grant`: its grants shrink
 * only at the run's tail, where early reports only added messages (1,000
 * photos, 2 workers: 1.96 s against 1.83 s, median of 6, worker.ts).
 * Nor does a remote worker whose next grant already waits in its socket:
 * the early report is for a worker about to run out, and otherwise it fed
 * itself: the worker asks for `--batch` less what is left of the grant in
 * hand (not of those waiting), the server grants up to its own cap less
 * what it holds, so grants cut by that cap (not by the window) came small,
 * were reported at half, and the next ones came smaller: 1,000 photos, 2
 * remote workers, ~450 grants a worker, all but ~20 of one task (two
 * messages a task); with the rule, ~130 grants of 4 (a report every 4).
 *
 * @module
 */

import type { ResultEntry, ResultMessage } from "../transport/protocol.ts";

/** Longest a batching worker keeps finished outcomes to itself, in ms. */
export const REPORT_MS = 500;

/** The outcomes a batching worker has not reported yet. */
export class BatchReport {
  #results: ResultEntry[] = [];
  #payloads: Uint8Array[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param batch the most tasks the worker holds
   * @param late called when outcomes have waited {@link REPORT_MS}: report them
   * @param everyMs see {@link REPORT_MS}
   */
  constructor(readonly batch: number, readonly late: () => void, readonly everyMs = REPORT_MS) {}

  /** Keeps a finished task's outcome (and a remote success's bytes). */
  add(result: ResultMessage, payload?: Uint8Array): void {
    const { type: _type, more: _more, cpu: _cpu, ...entry } = result;
    this.#results.push(entry as ResultEntry);
    if (payload) this.#payloads.push(payload);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#results.length) this.late();
    }, this.everyMs);
  }

  /** Whether to report now, with `left` tasks of the grant in hand (of `grant` tasks) to do. */
  due(left: number, grant = Infinity): boolean {
    return reportDue(this.#results.length, left, this.batch, grant);
  }

  /** The outcomes to send, and their bytes (one frame a success); forgotten here. */
  take(): { results: ResultEntry[]; payloads: Uint8Array[] } {
    const taken = { results: this.#results, payloads: this.#payloads };
    this.#results = [];
    this.#payloads = [];
    this.close();
    return taken;
  }

  /** Stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The reporting rule of {@link BatchReport.due}: whether `n` finished
 * outcomes go out now, with `left` tasks of a grant of `grant` to do.
 */
export function reportDue(n: number, left: number, batch: number, grant = Infinity): boolean {
  return n > 0 && (left === 0 || n >= Math.ceil(batch / 2) ||
    (grant <= batch / 2 && n >= Math.ceil(grant / 2)));
}

/**
 * How many tasks a batching worker asks for with `left` still to do: up to
 * `batch` held, and never more than `--max-tasks` lets it do (0: no limit).
 */
export function wantMore(batch: number, left: number, done: number, maxTasks: number): number {
  const room = maxTasks > 0 ? maxTasks - done - left : Infinity;
  return Math.max(0, Math.min(batch - left, room));
}

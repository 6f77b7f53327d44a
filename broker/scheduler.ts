/**
 * The server's scheduling logic, free of I/O so it can be tested alone.
 *
 * Load balancing as in the ZeroMQ guide's broker: a worker holds at most
 * one task; a task is handed out only when a worker asks. Completion is
 * counted on results, never on dispatch. A task whose worker is lost (exit,
 * silence, timeout) goes back to the front of the queue, until it has used
 * `maxAttempts` attempts; then it is failed.
 *
 * A batching worker asks for several tasks at once ({@link Scheduler.request});
 * how many it may hold and is granted (guided self-scheduling, the payload
 * window's weight) is `holdings.ts`' rule.
 *
 * All times are milliseconds from any fixed origin, passed in by the caller.
 *
 * @module
 */

import type { Span } from "../core/results.ts";
import { Holdings, type HoldingsOptions } from "./holdings.ts";

/** What the scheduler knows of a worker. */
export interface WorkerState {
  /** Worker id. */
  id: string;
  /** The task it works on (the first it holds), if any. */
  task: number | null;
  /** When it started on `task`: when handed out, or when the one before it ended. */
  taskSince: number;
  /** Every task it holds, in the order handed out (`task` first, then prefetched ones). */
  held: number[];
  /** Whether the worker asked for work and got none yet. */
  waiting: boolean;
  /** A batching worker (it asked with `want`): tasks it asked for and was not granted yet. */
  want: number;
  /** Whether it batches (asks with {@link Scheduler.request}). */
  batching: boolean;
  /** When the worker joined. */
  joined: number;
  /** When it left or was lost, or null while present. */
  left: number | null;
  /** Tasks completed successfully. */
  processed: number;
  /** Tasks it reported as failed. */
  failed: number;
  /** Total ms holding a task. */
  busyMs: number;
  /** Every task it held. */
  spans: Span[];
}

/** A task handed to a worker. */
export interface Assignment {
  /** Worker id. */
  worker: string;
  /** Task index. */
  task: number;
  /** Attempt number, from 1. */
  attempt: number;
}

/** A task's final state. */
export type TaskEnd = { ok: true } | { ok: false; error: string };

/** A run's scheduling settings beyond its tasks (each optional), and how much a worker may hold. */
export interface SchedulerOptions extends HoldingsOptions {
  /** Attempts per task before it is failed (3). */
  maxAttempts?: number;
  /**
   * Extra gate: whether `worker` may be given `task`, the next it would get (e.g. a send window for
   * remote payloads); the payload window's bytes are `window`, which a grant's weight keeps to.
   */
  canAssign?: (worker: string, task: number) => boolean;
  /** What `task` weighs while `worker` holds it ({@link Scheduler.heldWeight}: e.g. its bytes). */
  weigh?: (worker: string, task: number) => number;
}

/** The pure scheduler. */
export class Scheduler {
  readonly #queue: number[];
  readonly #attempts: Map<number, number> = new Map();
  readonly #lostErrors: Map<number, string> = new Map();
  readonly #ended: Map<number, TaskEnd> = new Map();
  /** Workers never to be given a task again (they timed out on it), by task. */
  readonly #excluded: Map<number, Set<string>> = new Map();
  readonly #workers: Map<string, WorkerState> = new Map();
  /**
   * Workers that asked and were refused by `canAssign` (the payload window), in the order they
   * were refused: the next room goes to the first of them, never to a worker that asks later.
   * Without it, with more remote workers than the window, whoever answered took the room its
   * result freed: with 64 instant fakes and a window of 16, 14 of them did all the work.
   */
  readonly #starved: Map<string, true> = new Map();
  readonly #total: number;
  readonly #maxAttempts: number;
  readonly #canAssign: (worker: string, task: number) => boolean;
  readonly #weigh: (worker: string, task: number) => number;
  /** What each held task weighs (`weigh`; the payload window's bytes), when not 0. */
  readonly #weights = new Map<number, number>();
  #heldWeight = 0; // the held tasks' weights, all together
  /** How much a worker may hold and is granted (holdings.ts). */
  readonly #holdings: Holdings;
  /** Workers present (joined, not lost). */
  #present = 0;
  /** Tasks every worker holds, all together (kept, not summed: a broker asks it a task). */
  #held = 0;

  /**
   * @param tasks task indices, in dispatch order
   * @param options attempts, gates and how much a worker may hold ({@link SchedulerOptions})
   */
  constructor(tasks: readonly number[], options: SchedulerOptions = {}) {
    this.#weigh = options.weigh ?? (() => 0);
    this.#queue = [...tasks];
    this.#total = tasks.length;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#canAssign = options.canAssign ?? (() => true);
    this.#holdings = new Holdings(options);
  }

  /** Number of tasks in the run. */
  get total(): number {
    return this.#total;
  }

  /** Tasks with a final outcome. */
  get finished(): number {
    return this.#ended.size;
  }

  /** True when every task has a final outcome. */
  get done(): boolean {
    return this.#ended.size === this.#total;
  }

  /** Tasks the workers hold, all of them together (handed out, no result yet). */
  get held(): number {
    return this.#held;
  }

  /** What the held tasks weigh, all together (see the constructor's `weigh`). */
  get heldWeight(): number {
    return this.#heldWeight;
  }

  /** Tasks not yet handed out. */
  get queued(): number {
    return this.#queue.length;
  }

  /** The final outcome of each finished task. */
  get ended(): ReadonlyMap<number, TaskEnd> {
    return this.#ended;
  }

  /** Every worker ever seen, present or gone. */
  get workers(): WorkerState[] {
    return [...this.#workers.values()];
  }

  /** A present worker, or undefined. */
  worker(id: string): WorkerState | undefined {
    const state = this.#workers.get(id);
    return state && state.left === null ? state : undefined;
  }

  /** Registers a worker. Joining twice is harmless. */
  join(id: string, now: number): void {
    const known = this.#workers.get(id);
    if (known && known.left === null) return;
    this.#present++;
    this.#workers.set(id, {
      id,
      task: null,
      taskSince: 0,
      held: [],
      waiting: false,
      want: 0,
      batching: false,
      joined: now,
      left: null,
      processed: 0,
      failed: 0,
      busyMs: 0,
      spans: known?.spans ?? [],
    });
  }

  /**
   * A worker asks for work. Returns one assignment, or null if it must wait;
   * with prefetch, {@link dispatch} fills the rest of its capacity.
   * `ahead`: the worker asks while still on its task (see `ReadyMessage.finishing`),
   * so it may hold one task more than its capacity until that result.
   */
  ready(id: string, now: number, ahead = false): Assignment | null {
    const state = this.worker(id);
    if (!state || state.held.length >= this.#holdings.capacity + (ahead ? 1 : 0)) return null;
    state.waiting = true;
    return this.#behindStarved(state) ? null : this.#assign(state, now);
  }

  /** True (and `state` joins them) when workers the window refused earlier have the next room. */
  #behindStarved(state: WorkerState): boolean {
    const first = this.#starved.keys().next().value, next = this.#queue[0];
    if (first === undefined || first === state.id || next === undefined) return false;
    if (!this.#canAssign(first, next)) return false;
    this.#starved.set(state.id, true); // the room is for those refused first: it waits behind them
    return true;
  }

  /**
   * A batching worker asks for up to `want` tasks (a `ready` or `results`
   * with `want`): it then holds at most `--batch` tasks, so its wish is cut
   * to that. Returns the tasks granted now (`Holdings.grantSize`); the rest
   * of its wish waits for {@link dispatch}.
   */
  request(id: string, now: number, want: number): Assignment[] {
    const state = this.worker(id);
    if (!state) return [];
    state.batching = true;
    state.want = this.#holdings.wish(want, state.held.length);
    state.waiting = state.want > 0;
    if (!state.waiting || this.#behindStarved(state)) return [];
    return this.#grant(state, now, this.#grantSize(state));
  }

  /** What `state` is granted now (`Holdings.grantSize`). */
  #grantSize(state: WorkerState): number {
    return this.#holdings.grantSize(
      state.want,
      state.held.length,
      this.#queue.length,
      this.#present,
    );
  }

  #grant(state: WorkerState, now: number, n: number): Assignment[] {
    const out: Assignment[] = [];
    // Guided in weight too (`Holdings.weightAllows`).
    let weight = 0, held = 0;
    for (const task of state.held) held += this.#weights.get(task) ?? 0;
    for (let a; out.length < n && this.#holdings.weightAllows(weight, held, this.#present);) {
      if (!(a = this.#assign(state, now))) break;
      out.push(a);
      const w = this.#weights.get(a.task) ?? 0;
      weight += w;
      held += w;
    }
    return out;
  }

  #assign(state: WorkerState, now: number): Assignment | null {
    if (this.#queue.length === 0) return null;
    // The first queued task this worker was not excluded from (usually the first).
    const at = this.#excluded.size === 0
      ? 0
      : this.#queue.findIndex((t) => !this.#excluded.get(t)?.has(state.id));
    if (at < 0) return null;
    if (!this.#canAssign(state.id, this.#queue[at])) {
      this.#starved.set(state.id, true);
      return null;
    }
    const task = this.#queue.splice(at, 1)[0];
    const weight = this.#weigh(state.id, task);
    if (weight > 0) this.#weights.set(task, weight);
    this.#heldWeight += weight;
    this.#starved.delete(state.id);
    const attempt = (this.#attempts.get(task) ?? 0) + 1;
    this.#attempts.set(task, attempt);
    state.held.push(task);
    this.#held++;
    if (state.task === null) {
      state.task = task;
      state.taskSince = now;
    }
    if (state.batching) state.want--;
    state.waiting = state.batching ? state.want > 0 : state.held.length < this.#holdings.capacity;
    return { worker: state.id, task, attempt };
  }

  /**
   * Hands queued tasks to workers with room for them (after a requeue, a
   * window opening, a result): first to the workers the window refused, in
   * the order it refused them, then to the others.
   */
  dispatch(now: number): Assignment[] {
    const out: Assignment[] = [];
    for (const id of this.#starved.keys()) {
      const state = this.worker(id);
      if (!state?.waiting) this.#starved.delete(id);
      else if (this.#room(state) > 0) {
        const assignment = this.#assign(state, now);
        if (!assignment) break; // the window is full again (or nothing is left)
        out.push(assignment);
      }
    }
    for (const state of this.#workers.values()) {
      if (this.#starved.has(state.id)) continue; // refused again just above
      if (state.left !== null || !state.waiting) continue;
      if (state.batching) out.push(...this.#grant(state, now, this.#grantSize(state)));
      else {
        while (state.waiting && state.held.length < this.#holdings.capacity) {
          const assignment = this.#assign(state, now);
          if (!assignment) break;
          out.push(assignment);
        }
      }
    }
    return out;
  }

  /** How many more tasks `state` may be given now. */
  #room(state: WorkerState): number {
    return state.batching ? state.want : this.#holdings.capacity - state.held.length;
  }

  /**
   * Whether worker `id` is present and holds `task` at `attempt` (its current
   * attempt: a task requeued and handed out again has a newer one), and the
   * task has no outcome yet. Only such a result may have any effect.
   */
  holds(id: string, task: number, attempt?: number): boolean {
    const state = this.worker(id);
    return state !== undefined && state.held.includes(task) && !this.#ended.has(task) &&
      (attempt === undefined || this.#attempts.get(task) === attempt);
  }

  /**
   * Records a result. Returns false (and changes nothing) for a stale result:
   * a task the worker does not hold at that attempt, or one already ended
   * (see {@link holds}).
   */
  result(id: string, task: number, end: TaskEnd, now: number, attempt?: number): boolean {
    const state = this.worker(id);
    if (!state || !this.holds(id, task, attempt)) return false;
    this.#release(state, task, now, end.ok);
    this.#ended.set(task, end);
    if (end.ok) state.processed++;
    else state.failed++;
    return true;
  }

  /**
   * Records several results that arrived together (a `results` message), in
   * the order the worker did them, and returns which counted (see
   * {@link result}). The time since the worker's current task started is
   * shared evenly among those that count, for their spans (each started when
   * the one before it ended); {@link overdue} then counts from `now`.
   */
  results(
    id: string,
    entries: readonly { task: number; attempt: number; end: TaskEnd }[],
    now: number,
  ): boolean[] {
    const held = entries.map((e) => this.holds(id, e.task, e.attempt));
    const counting = held.filter(Boolean).length;
    const since = this.worker(id)?.taskSince ?? now;
    let n = 0;
    return entries.map((e, i) =>
      held[i] && this.result(id, e.task, e.end, since + ((now - since) * ++n) / counting, e.attempt)
    );
  }

  /**
   * A task counted as done by worker `id` failed after all (the server could
   * not write its output): it ends with `end` instead, and the worker's tally
   * and span say so. Returns false if the task had not ended as done.
   */
  amend(id: string, task: number, end: Extract<TaskEnd, { ok: false }>): boolean {
    const state = this.#workers.get(id);
    if (!state || this.#ended.get(task)?.ok !== true) return false;
    this.#ended.set(task, end);
    state.processed--;
    state.failed++;
    const span = state.spans.findLast((s) => s.task === task);
    if (span) span.ok = false;
    return true;
  }

  /** A held task is held no more: its weight is off {@link heldWeight}. */
  #unweigh(task: number): void {
    this.#heldWeight -= this.#weights.get(task) ?? 0;
    this.#weights.delete(task);
  }

  /** Ends the span of a held task; the next held task (if any) starts now. */
  #release(state: WorkerState, task: number, now: number, ok: boolean | null): void {
    const at = state.held.indexOf(task);
    if (at < 0) return;
    state.held.splice(at, 1);
    this.#held--;
    this.#unweigh(task);
    if (state.task !== task) return; // a prefetched task answered out of order: no span
    state.busyMs += now - state.taskSince;
    state.spans.push({ task, start: state.taskSince, end: now, ok });
    state.task = state.held[0] ?? null;
    state.taskSince = now;
  }

  /**
   * A worker is gone (exit, silence, timeout, graceful leave). The task it worked on is requeued at
   * the front, or failed with `reason` once it has used every attempt; prefetched tasks it had not
   * started go back to the front without using an attempt; which task it worked on: see
   * {@link blamed}; with `graceful` (it left, having started none of them), none. With `exclude`
   * (it timed out), the worker is never given that task again. Returns the failed task indices.
   */
  lost(
    id: string,
    now: number,
    reason: string,
    exclude = false,
    finished?: (task: number) => boolean,
    graceful = false,
  ): number[] {
    const state = this.worker(id);
    if (!state) return [];
    const died = graceful ? state.held.length : this.#diedAfter(state, finished);
    const done = state.held.slice(0, died);
    for (const task of done) this.#release(state, task, now, null);
    const [task, ...prefetched] = state.held;
    prefetched.unshift(...done);
    if (task !== undefined) this.#release(state, task, now, null);
    this.#held -= state.held.length;
    for (const held of state.held) this.#unweigh(held);
    this.#present--;
    state.held = [];
    state.task = null;
    state.left = now;
    state.waiting = false;
    state.want = 0;
    this.#starved.delete(id);
    for (const unstarted of prefetched.reverse()) {
      if (this.#ended.has(unstarted)) continue;
      this.#attempts.set(unstarted, (this.#attempts.get(unstarted) ?? 1) - 1);
      this.#queue.unshift(unstarted);
    }
    if (task === undefined || this.#ended.has(task)) return [];
    if (exclude) {
      const excluded = this.#excluded.get(task) ?? new Set<string>();
      this.#excluded.set(task, excluded.add(id));
    }
    this.#lostErrors.set(task, reason);
    if ((this.#attempts.get(task) ?? 0) >= this.#maxAttempts) {
      this.#ended.set(task, {
        ok: false,
        error: `${reason}${
          this.#maxAttempts > 1 ? ` on each of ${this.#maxAttempts} attempts` : ""
        }; giving up on this image`,
      });
      return [task];
    }
    this.#queue.unshift(task);
    return [];
  }

  /**
   * The task worker `id` is taken to have worked on if lost now: the first it holds, unless it
   * holds more than one and `finished` (given when its process ended) says that one was finished (a
   * local worker's output file was written): then it died on the next one not finished (a worker
   * does its tasks in the order handed out), its results for the finished ones, not sent yet or
   * sent just before, lost with the process (sockets close with linger 0), and the finished ones go
   * back to the queue without using an attempt. The last task it holds is blamed even if finished
   * too.
   */
  blamed(id: string, finished?: (task: number) => boolean): number | null {
    const state = this.worker(id);
    if (!state) return null;
    return state.held[this.#diedAfter(state, finished)] ?? null;
  }

  /** How many of the tasks `state` holds it had finished before dying (see {@link blamed}). */
  #diedAfter(state: WorkerState, finished?: (task: number) => boolean): number {
    let n = 0;
    while (finished && n < state.held.length - 1 && finished(state.held[n])) n++;
    return n;
  }

  /** Workers whose current task has run longer than `timeoutMs`. */
  overdue(now: number, timeoutMs: number): WorkerState[] {
    return this.workers.filter((w) =>
      w.left === null && w.task !== null && now - w.taskSince > timeoutMs
    );
  }

  /** Attempts used so far by a task. */
  attempts(task: number): number {
    return this.#attempts.get(task) ?? 0;
  }
}

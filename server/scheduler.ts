/**
 * The server's scheduling logic, free of I/O so it can be tested alone.
 *
 * Load balancing as in the ZeroMQ guide's broker: a worker holds at most
 * one task; a task is handed out only when a worker asks. Completion is
 * counted on results, never on dispatch. A task whose worker is lost (exit,
 * silence, timeout) goes back to the front of the queue, until it has used
 * `maxAttempts` attempts; then it is failed.
 *
 * All times are milliseconds from any fixed origin, passed in by the caller.
 *
 * @module
 */

/** One span of work on a worker, for timelines. */
export interface Span {
  /** Task index. */
  task: number;
  /** Start, ms. */
  start: number;
  /** End, ms. */
  end: number;
  /** Whether it succeeded; null when the worker was lost during it. */
  ok: boolean | null;
}

/** What the scheduler knows of a worker. */
export interface WorkerState {
  /** Worker id. */
  id: string;
  /** Task in hand, if any. */
  task: number | null;
  /** When the current task was handed out. */
  taskSince: number;
  /** Whether the worker asked for work and got none yet. */
  waiting: boolean;
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

/** The pure scheduler. */
export class Scheduler {
  readonly #queue: number[];
  readonly #attempts: Map<number, number> = new Map();
  readonly #lostErrors: Map<number, string> = new Map();
  readonly #ended: Map<number, TaskEnd> = new Map();
  readonly #workers: Map<string, WorkerState> = new Map();
  readonly #total: number;
  readonly #maxAttempts: number;
  readonly #canAssign: (worker: string) => boolean;

  /**
   * @param tasks task indices, in dispatch order
   * @param maxAttempts attempts per task before it is failed
   * @param canAssign extra gate (e.g. a send window for remote payloads)
   */
  constructor(
    tasks: readonly number[],
    maxAttempts = 3,
    canAssign: (worker: string) => boolean = () => true,
  ) {
    this.#queue = [...tasks];
    this.#total = tasks.length;
    this.#maxAttempts = maxAttempts;
    this.#canAssign = canAssign;
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
    this.#workers.set(id, {
      id,
      task: null,
      taskSince: 0,
      waiting: false,
      joined: now,
      left: null,
      processed: 0,
      failed: 0,
      busyMs: 0,
      spans: known?.spans ?? [],
    });
  }

  /** A worker asks for work. Returns its assignment, or null if it must wait. */
  ready(id: string, now: number): Assignment | null {
    const state = this.worker(id);
    if (!state || state.task !== null) return null;
    state.waiting = true;
    return this.#assign(state, now);
  }

  #assign(state: WorkerState, now: number): Assignment | null {
    if (this.#queue.length === 0 || !this.#canAssign(state.id)) return null;
    const task = this.#queue.shift()!;
    const attempt = (this.#attempts.get(task) ?? 0) + 1;
    this.#attempts.set(task, attempt);
    state.task = task;
    state.taskSince = now;
    state.waiting = false;
    return { worker: state.id, task, attempt };
  }

  /** Hands queued tasks to waiting workers (after a requeue or a window opening). */
  dispatch(now: number): Assignment[] {
    const out: Assignment[] = [];
    for (const state of this.#workers.values()) {
      if (state.left === null && state.waiting && state.task === null) {
        const assignment = this.#assign(state, now);
        if (assignment) out.push(assignment);
      }
    }
    return out;
  }

  /**
   * Records a result. Returns false (and changes nothing) for a stale result:
   * a task the worker no longer holds (reassigned after a timeout).
   */
  result(id: string, task: number, end: TaskEnd, now: number): boolean {
    const state = this.worker(id);
    if (!state || state.task !== task || this.#ended.has(task)) return false;
    this.#release(state, now, end.ok);
    this.#ended.set(task, end);
    if (end.ok) state.processed++;
    else state.failed++;
    return true;
  }

  #release(state: WorkerState, now: number, ok: boolean | null): void {
    if (state.task === null) return;
    state.busyMs += now - state.taskSince;
    state.spans.push({
      task: state.task,
      start: state.taskSince,
      end: now,
      ok,
    });
    state.task = null;
  }

  /**
   * A worker is gone (exit, silence, timeout, graceful leave). Its task, if
   * any, is requeued at the front, or failed with `reason` once it has used
   * every attempt. Returns the failed task index, if one was failed.
   */
  lost(id: string, now: number, reason: string): number | null {
    const state = this.worker(id);
    if (!state) return null;
    const task = state.task;
    this.#release(state, now, null);
    state.left = now;
    state.waiting = false;
    if (task === null || this.#ended.has(task)) return null;
    this.#lostErrors.set(task, reason);
    if ((this.#attempts.get(task) ?? 0) >= this.#maxAttempts) {
      this.#ended.set(task, {
        ok: false,
        error: `${reason}${
          this.#maxAttempts > 1 ? ` on each of ${this.#maxAttempts} attempts` : ""
        }; giving up on this image`,
      });
      return task;
    }
    this.#queue.unshift(task);
    return null;
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

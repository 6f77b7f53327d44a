/**
 * How much a worker may hold, and so how much it is granted when it asks:
 * the sizing rules of the `Scheduler` (scheduler.ts), apart from its
 * bookkeeping (which tasks, which worker, which attempt).
 *
 * - A worker that asks for one task at a time holds at most `1 + prefetch`.
 * - A batching worker asks for several (`want`) and holds at most `--batch`;
 *   a grant is guided self-scheduling (OpenMP's "guided"): the worker holds at
 *   most `max(2, ceil(queued / (2 × workers)))`, so grants are large early
 *   and single tasks at the tail, where no worker should sit on a batch the
 *   others could share. `workers` counts those expected too (a local pool's
 *   `--workers`): the first local worker to join, alone for a few ms, is not
 *   granted half the queue.
 * - With a payload window (remote workers' bytes in memory), a grant stops
 *   once it weighs `window / (2 × workers)`, and a worker holding
 *   `window / workers` gets none, so that one worker's batches never fill the
 *   window while others wait (docs/performance.md, "Batches").
 *
 * @module
 */

/** The sizing settings of a run (every one optional: one task at a time, no window). */
export interface HoldingsOptions {
  /** Tasks a worker may hold beyond the one it works on (0, the guide's rule: one at a time). */
  prefetch?: number;
  /** Most tasks a batching worker may hold (`--batch`). */
  batch?: number;
  /** The most the held tasks may weigh together (the payload window's bytes). */
  window?: number;
  /** Workers expected to join (a local pool's `--workers`): shares count them from the start. */
  expected?: number;
}

/** The sizing rules of one run: see the module's comment. */
export class Holdings {
  /** Most tasks a worker that asks one at a time may hold: the one it is on and those prefetched. */
  readonly capacity: number;
  readonly #batch: number;
  readonly #window: number;
  readonly #expected: number;

  /** Rules for a run with these settings. */
  constructor({ prefetch = 0, batch = 1, window = Infinity, expected = 0 }: HoldingsOptions = {}) {
    this.capacity = 1 + prefetch;
    this.#batch = batch;
    this.#window = window;
    this.#expected = expected;
  }

  /** What a batching worker holding `held` tasks may still ask for of its `want`: `--batch` caps it. */
  wish(want: number, held: number): number {
    return Math.max(0, Math.min(want, this.#batch - held));
  }

  /**
   * How many of the `want` tasks a batching worker still wishes for it is granted now, holding
   * `held`, with `queued` tasks left and `present` workers: so that it holds at most a share (or 2,
   * the task it is on and the next). Topping up its `--batch` after each report, a worker held the
   * tail the others ran out of.
   */
  grantSize(want: number, held: number, queued: number, present: number): number {
    const share = Math.ceil(queued / (2 * Math.max(1, present, this.#expected)));
    return Math.min(want, Math.max(0, Math.max(2, share) - held));
  }

  /**
   * Whether a grant that weighs `grant` so far may take one more task, for a worker whose tasks
   * (the grant's included) weigh `held`, with `present` workers.
   */
  weightAllows(grant: number, held: number, present: number): boolean {
    const workers = Math.max(1, present);
    return grant < this.#window / (2 * workers) && held < this.#window / workers;
  }
}

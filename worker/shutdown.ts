/**
 * How a worker's run ends, as one state machine. A worker is `running`
 * until one of three things ends it:
 *
 * - it leaves (`leave`: SIGINT/SIGTERM, or `--max-tasks` reached): it says
 *   `leave` to a server that welcomed it, then ends with 0 (`leaving` →
 *   `ended`);
 * - the server ends it (`abandon`: `quit` was broadcast, or the server fell
 *   silent): it ends at once, and the task loop stops waiting for its socket;
 * - something else ends it (`end`: refused, a socket error, the loop done).
 *
 * Ending closes the worker's sockets and image thread, once; the first exit
 * code stays. A task in hand is not waited for: {@link WorkerShutdown.ended}
 * settles, and whoever races it drops the task (nobody is left to take its
 * result).
 *
 * @module
 */

/** The phases of a worker's life; they only move forward. */
export type WorkerPhase = "running" | "leaving" | "ended";

/** One worker run's shutdown: its phase, its exit code, and the promises that announce the end. */
export class WorkerShutdown {
  #phase: WorkerPhase = "running";
  #code: number | null = null;
  #leaving: Promise<void> | null = null;
  #resolveEnded!: (value: null) => void;
  #resolveOver!: () => void;

  /** Settles (with null) when the worker has ended: a task raced against it is abandoned. */
  readonly ended: Promise<null> = new Promise((resolve) => this.#resolveEnded = resolve);

  /** Settles when the server ended the run (quit, silence): the task loop stops waiting. */
  readonly over: Promise<void> = new Promise((resolve) => this.#resolveOver = resolve);

  /** `close` releases the worker's sockets and thread; it runs once, when the worker ends. */
  constructor(private readonly close: () => void) {}

  /** Where the worker is. */
  get phase(): WorkerPhase {
    return this.#phase;
  }

  /** The exit code, once ended; null before. */
  get exitCode(): number | null {
    return this.#code;
  }

  /** Ends the worker with `code`: closes everything. Only the first call counts. */
  end(code: number): void {
    if (this.#code !== null) return;
    this.#code = code;
    this.#phase = "ended";
    this.close();
    this.#resolveEnded(null);
  }

  /** The server ended the run (quit, or it fell silent): end at once, stop waiting for tasks. */
  abandon(code: number): void {
    this.end(code);
    this.#resolveOver();
  }

  /**
   * The exit code (`fallback` if none was set) once a graceful leave under
   * way is over: its `leave` and last results are out of the process (an
   * idle worker's leave, started by the signal, was still flushing when the
   * run returned, and the process could exit before ZeroMQ had sent it).
   */
  async settled(fallback: number): Promise<number> {
    await this.#leaving?.catch(() => {});
    return this.#code ?? fallback;
  }

  /**
   * Leaves gracefully: runs `goodbye` (which tells a server that welcomed
   * the worker), then ends with `code`. Nothing happens once ended; a second
   * call while leaving waits for the first.
   */
  leave(code: number, goodbye: () => Promise<void>): Promise<void> {
    if (this.#code !== null) return Promise.resolve();
    this.#leaving ??= (async () => {
      this.#phase = "leaving";
      await goodbye();
      this.end(code);
    })();
    return this.#leaving;
  }
}

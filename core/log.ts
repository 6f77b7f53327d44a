/**
 * What a run tells its user while it runs: a progress bar on a terminal,
 * periodic plain lines otherwise, or JSON lines (`--log-format json`), all
 * on stderr; `--quiet` silences them.
 *
 * @module
 */

import type { LogFormat } from "./job.ts";

/** Where log output goes, and how. */
export interface LogOptions {
  /** No progress, no per-image lines. */
  quiet: boolean;
  /** Per-image lines too. */
  verbose: boolean;
  /** Text or JSON lines. */
  logFormat: LogFormat;
}

const encoder = new TextEncoder();

/** Formats seconds as `1m05s` / `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/**
 * Renders the one-line progress text (bar included when `width` > 0): done
 * of total, rate, time taken, time left, and failures so far.
 */
export function progressText(
  done: number,
  total: number,
  elapsed: number,
  width = 0,
  failed = 0,
): string {
  const rate = elapsed > 0 ? done / elapsed : 0;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  const percent = total ? Math.floor((done / total) * 100) : 100;
  const filled = total ? Math.round((done / total) * width) : width;
  const bar = width > 0 ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ` : "";
  return `${bar}${done}/${total} ${percent}% ${rate.toFixed(1)} img/s ${
    formatDuration(elapsed)
  } ETA ${done === total ? "0s" : formatDuration(eta)}${failed ? `, ${failed} failed` : ""}`;
}

/** The run's voice on stderr. */
export class Log {
  readonly #options: LogOptions;
  readonly #tty: boolean;
  #lastDraw = 0;
  #barShown = false;
  #started = performance.now();
  #lastLine = 0;

  /** @param isTerminal whether stderr is a terminal (bar) or not (lines) */
  constructor(options: LogOptions, isTerminal = Deno.stderr.isTerminal()) {
    this.#options = options;
    this.#tty = isTerminal && options.logFormat === "text";
  }

  #write(text: string): void {
    Deno.stderr.writeSync(encoder.encode(text));
  }

  #clearBar(): void {
    if (this.#barShown) this.#write("\r\x1b[2K");
    this.#barShown = false;
  }

  /** An event worth a line (always shown unless quiet). */
  info(message: string, fields: Record<string, unknown> = {}): void {
    if (this.#options.quiet) return;
    this.#emit("info", message, fields);
  }

  /** Detail shown only with --verbose. */
  debug(message: string, fields: Record<string, unknown> = {}): void {
    if (!this.#options.verbose) return;
    this.#emit("debug", message, fields);
  }

  /** A problem with one image or one worker (shown unless quiet). */
  warn(message: string, fields: Record<string, unknown> = {}): void {
    if (this.#options.quiet) return;
    this.#emit("warn", message, fields);
  }

  /** An image that failed (shown unless quiet; the closing line counts them always). */
  failed(message: string, fields: Record<string, unknown> = {}): void {
    if (this.#options.quiet) return;
    this.#emit("failed", message, fields);
  }

  /** A problem that stops the run: always shown. */
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.#emit("error", message, fields);
  }

  #emit(level: string, message: string, fields: Record<string, unknown>): void {
    this.#clearBar();
    if (this.#options.logFormat === "json") {
      this.#write(
        JSON.stringify({
          level,
          message,
          ...fields,
          time: new Date().toISOString(),
        }) + "\n",
      );
    } else {
      this.#write(
        `${
          level === "error"
            ? "zpix: error: "
            : level === "warn"
            ? "zpix: warning: "
            : level === "failed"
            ? "zpix: failed: "
            : "zpix: "
        }${message}\n`,
      );
    }
  }

  /** Restarts the clock progress rates are measured on. */
  startClock(): void {
    this.#started = performance.now();
  }

  /** Reports progress: redraws the bar at most 10 times a second, or a line every 2 s. */
  progress(done: number, total: number, force = false, failed = 0): void {
    if (this.#options.quiet) return;
    const now = performance.now();
    const elapsed = (now - this.#started) / 1000;
    if (this.#tty) {
      if (!force && now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      const columns = (() => {
        try {
          return Deno.consoleSize().columns;
        } catch {
          return 80;
        }
      })();
      this.#write(
        `\r\x1b[2K${
          progressText(
            done,
            total,
            elapsed,
            Math.max(10, Math.min(40, columns - 60)),
            failed,
          )
        }`,
      );
      this.#barShown = true;
      return;
    }
    if (!force && now - this.#lastLine < 2000) return;
    this.#lastLine = now;
    if (this.#options.logFormat === "json") {
      this.#write(
        JSON.stringify({
          level: "progress",
          done,
          total,
          failed,
          seconds: Math.round(elapsed * 100) / 100,
        }) + "\n",
      );
    } else {
      this.#write(`zpix: ${progressText(done, total, elapsed, 0, failed)}\n`);
    }
  }

  /** Ends the bar line, if one is shown. */
  finish(): void {
    if (this.#barShown) this.#write("\n");
    this.#barShown = false;
  }
}

/**
 * The broker's gate: what it believes of a peer, decided in one place before
 * any message has an effect (see "Trust model" in docs/distributed.md).
 *
 * - A routing id is a name the peer chose: it proves nothing. Only a valid
 *   `join` (the token, and CURVE where configured) makes an identity a
 *   worker; until then, and again once it is taken for lost, what it says
 *   is dropped ({@link Gate.admits}).
 * - Local workers get unguessable ids per run ({@link localWorkerId}): a
 *   peer cannot squat one before it connects, nor pass for one.
 * - Warnings about peers are printable, bounded and rate-limited
 *   ({@link PeerWarnings}): no peer can forge log lines or flood the log.
 *
 * @module
 */

import { printable } from "../transport/schema.ts";
import type { Log } from "../core/log.ts";
import { randomHex } from "../core/hex.ts";
import type {
  JoinMessage,
  RefusedMessage,
  ResultEntry,
  WorkerMessage,
} from "../transport/protocol.ts";
import type { Job } from "../core/job.ts";
import { sniffFormat } from "../ops/formats.ts";
import type { TaskEnd } from "./scheduler.ts";

/** Longest routing id accepted (libzmq allows 255 bytes). */
const MAX_ID_BYTES = 255;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The routing id as text, or null when it is not valid UTF-8: two invalid
 * ids could otherwise decode to the same text and be taken for one peer.
 */
export function idOf(identity: Uint8Array): string | null {
  if (identity.length === 0 || identity.length > MAX_ID_BYTES) return null;
  try {
    return strictUtf8.decode(identity);
  } catch {
    return null;
  }
}

/**
 * The routing id of the `n`th local worker of this run: `wN.` and 128 random
 * bits. Logs and reports show `wN` ({@link localName}); the whole id is
 * known only to the server and that worker (it is on the worker's command
 * line, readable by this machine's users, like the rest of the run).
 */
export function localWorkerId(n: number): string {
  return `w${n}.${randomHex()}`;
}

/** The name logs and reports give a local worker: `wN`. */
export function localName(id: string): string {
  return id.slice(0, id.indexOf(".") >>> 0);
}

/** Compares two secrets in time independent of where they differ. */
export function sameSecret(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = new TextEncoder().encode(given), b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

/** How often, at most, the broker warns about peers (bad messages, strangers), in ms. */
export const PEER_WARNING_MS = 1000;

/**
 * Warnings about what peers send: each made printable and at most
 * {@link PEER_WARNING_MS} apart, the ones in between counted and
 * mentioned with the next. State: two numbers, whatever the peers do.
 */
export class PeerWarnings {
  #last = -Infinity;
  #held = 0;
  /** Warnings not written (rate limit). */
  dropped = 0;

  /** @param log where warnings go @param everyMs least time between two */
  constructor(readonly log: Log, readonly everyMs = PEER_WARNING_MS) {}

  /** Warns `line` (made printable, at most 300 characters) unless one went out lately. */
  warn(line: string): void {
    const now = performance.now();
    if (now - this.#last < this.everyMs) {
      this.#held++;
      this.dropped++;
      return;
    }
    this.#last = now;
    const more = this.#held ? ` (and ${this.#held} more since the last such warning)` : "";
    this.#held = 0;
    this.log.warn(printable(line, 300) + more);
  }
}

/**
 * A remote success's payload, checked before it is written: present, of the
 * size the result says, and an image of the format it says.
 */
export function checkPayload(
  message: Extract<ResultEntry, { ok: true }>,
  payload: Uint8Array | null,
): TaskEnd {
  if (!payload) return { ok: false, error: "result carried no image bytes" };
  if (payload.length !== message.bytes || sniffFormat(payload) !== message.format) {
    return {
      ok: false,
      error: `the worker's output is not the ${message.bytes}-byte ${message.format} it says`,
    };
  }
  return { ok: true };
}

/**
 * What the broker knows of its peers' identities: the workers that joined
 * (pid and host, for the report), its own local workers, the workers not
 * let back in, and the warnings about peers. State grows with joins only:
 * a peer that never presented the token leaves nothing behind.
 */
export class Gate {
  /** Every worker that ever joined (pid and host), for the report and for telling it to rejoin. */
  readonly seen = new Map<string, { pid: number; host: string; told?: number }>();
  /** Ids of the local workers this run started (their names in logs: `wN`). */
  readonly localIds = new Set<string>();
  /** Workers that timed out on a task: not let back in this run. */
  readonly banned = new Set<string>();
  /** Warnings about peers: printable, rate-limited. */
  readonly warnings: PeerWarnings;

  /** @param log where warnings about peers go @param job the token and --task-timeout */
  constructor(readonly log: Log, readonly job: Pick<Job, "token" | "taskTimeout">) {
    this.warnings = new PeerWarnings(log);
  }

  /**
   * How a worker's answer for a task ends it, or null when it has no say:
   * only the worker that holds this task at this attempt, while it is open
   * (`holds`), does; a late answer of a replaced attempt, or one for a task
   * done elsewhere, changes nothing. A remote success is checked against its
   * bytes (`checkPayload`).
   */
  judge(
    id: string,
    local: boolean,
    entry: ResultEntry,
    payload: Uint8Array | null,
    holds: boolean,
  ): TaskEnd | null {
    if (!holds) {
      this.log.debug(
        `${this.name(id)}: stale result for task ${entry.task} attempt ${entry.attempt} dropped`,
      );
      return null;
    }
    if (!entry.ok) return { ok: false, error: entry.error };
    return local ? { ok: true } : checkPayload(entry, payload);
  }

  /** How logs and reports name a worker: `wN` for a local one, its (printable) id otherwise. */
  name(id: string): string {
    return this.localIds.has(id) ? localName(id) : printable(id, 64);
  }

  /** A worker's line in the report: its name, pid and host. */
  describe(id: string): { id: string; pid: number | null; host: string | null } {
    const seen = this.seen.get(id);
    return { id: this.name(id), pid: seen?.pid ?? null, host: seen?.host ?? null };
  }

  /** Why a `join` is refused (wrong or missing token; timed out before), or null. */
  refuseJoin(id: string, message: JoinMessage): string | null {
    const job = this.job;
    if (job.token !== null && !sameSecret(message.token, job.token)) {
      this.warnings.warn(
        `refused worker ${this.name(id)} from ${message.host}: wrong or missing token`,
      );
      return "wrong or missing token (--token / ZPIX_TOKEN)";
    }
    return this.banned.has(id) ? this.#bannedReason() : null;
  }

  #bannedReason(): string {
    return `a task took this worker longer than --task-timeout ${this.job.taskTimeout}s; ` +
      "it is not taken back in this run";
  }

  /**
   * What to answer a message from an identity that is no worker: one that
   * never joined is ignored (a rate-limited warning); a worker taken for lost
   * is told to join again, token and all, or, if it timed out, that it is
   * refused (at most once a second each: these are workers that joined).
   * `now` in ms.
   */
  stranger(id: string, type: WorkerMessage["type"], now: number): RefusedMessage | null {
    const seen = this.seen.get(id);
    if (!seen) {
      this.warnings.warn(`ignoring a ${type} from ${this.name(id)}, which has not joined`);
      return null;
    }
    if (seen.told !== undefined && now - seen.told < 1000) return null;
    seen.told = now;
    if (this.banned.has(id)) return { type: "refused", reason: this.#bannedReason() };
    this.log.warn(`${this.name(id)} speaks again after being taken for lost: told to rejoin`);
    return { type: "refused", reason: "this worker was taken for lost; join again", rejoin: true };
  }
}

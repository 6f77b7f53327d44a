/**
 * Test-only fault injection, so the reliability tests can make a worker
 * really crash or hang on a chosen image (no real input does that
 * on demand). Off unless the server runs with `ZPIX_FAULT` set: only then
 * do its local workers get read access to that one variable.
 *
 * `ZPIX_FAULT` is a `|`-separated list of `KIND:NAME` or `KIND@N:NAME`
 * (only on attempts 1..N), where NAME is the input's base name and KIND is
 * - `crash`: the worker process exits with code 70 (like an abort inside WASM),
 * - `hang`: a synchronous endless loop (like a runaway WASM kernel: no heartbeats),
 * - `stall`: says so on stderr (`fault: stall on NAME`, so a test can wait for it), then
 *   waits forever asynchronously (heartbeats go on),
 * - `slow`: blocks its thread for {@link SLOW_FAULT_MS}, then does the task (a long stage).
 *
 * @module
 */

import { basename } from "node:path";

/** The environment variable that turns faults on. */
export const FAULT_ENV = "ZPIX_FAULT";

/** Exit code of a worker that crashed on purpose. */
export const FAULT_EXIT_CODE = 70;

/** How long a `slow` fault blocks the worker's thread, in ms. */
export const SLOW_FAULT_MS = 3000;

/** One injected fault. */
export interface Fault {
  /** What the worker does. */
  kind: "crash" | "hang" | "stall" | "slow";
  /** Base name of the input that triggers it. */
  name: string;
  /** Last attempt it fires on (null: every attempt). */
  until: number | null;
}

/** Parses a `ZPIX_FAULT` value; throws on a malformed entry. */
export function parseFaults(spec: string): Fault[] {
  return spec.split("|").filter(Boolean).map((entry) => {
    const match = /^(crash|hang|stall|slow)(?:@(\d+))?:(.+)$/.exec(entry);
    if (!match) throw new Error(`${FAULT_ENV}: cannot parse "${entry}"`);
    return {
      kind: match[1] as Fault["kind"],
      name: match[3],
      until: match[2] ? Number(match[2]) : null,
    };
  });
}

function readable(): boolean {
  return Deno.permissions.querySync({ name: "env", variable: FAULT_ENV }).state === "granted";
}

/** The faults this process was given: none unless `ZPIX_FAULT` is set and readable. */
export function readFaults(): Fault[] {
  return readable() ? parseFaults(Deno.env.get(FAULT_ENV) ?? "") : [];
}

/** The extra permission a local worker needs to see the faults: none unless set here. */
export function faultPermissions(): string[] {
  return readable() && Deno.env.get(FAULT_ENV) ? [`--allow-env=${FAULT_ENV}`] : [];
}

/** Acts out the fault matching this input and attempt, if any. */
export async function injectFault(
  faults: readonly Fault[],
  input: string,
  attempt: number,
): Promise<void> {
  const name = basename(input);
  const fault = faults.find((f) => f.name === name && (f.until === null || attempt <= f.until));
  if (!fault) return;
  if (fault.kind === "crash") Deno.exit(FAULT_EXIT_CODE);
  if (fault.kind === "hang") { for (;;) { /* spin */ } }
  if (fault.kind === "slow") {
    const end = performance.now() + SLOW_FAULT_MS;
    while (performance.now() < end) { /* a long synchronous stage */ }
    return;
  }
  console.error(`fault: stall on ${name} (attempt ${attempt})`);
  await new Promise<never>(() => {});
}

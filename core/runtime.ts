/**
 * Facts about the running program: where its sources are, whether it is a
 * compiled binary, and how to start it again.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where main.ts and node_modules live) when run from source. */
export const SOURCE_ROOT: string = dirname(
  dirname(fileURLToPath(import.meta.url)),
);

/** Whether this process is a `deno compile`d binary. */
export function isCompiled(): boolean {
  return Boolean((Deno.build as { standalone?: boolean }).standalone);
}

/**
 * The command line that runs this program again from source with the given
 * permission flags and zpix arguments (`deno run … main.ts ARGS`).
 */
export function selfCommandLine(
  permissions: string[],
  args: string[],
): { command: string; args: string[] } {
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--cached-only",
      `--config=${join(SOURCE_ROOT, "deno.json")}`,
      ...permissions,
      join(SOURCE_ROOT, "main.ts"),
      ...args,
    ],
  };
}

/** A process's CPU time so far, in µs (getrusage: every thread). */
type CpuUsage = () => { user: number; system: number };

/**
 * Deno 2.9's own `Deno.cpuUsage()` (not in its type declarations): the
 * figures of `node:process` `cpuUsage()` without loading that module, which
 * costs ~5 ms of CPU a process at start-up, where a server and its workers
 * all start on the same cores. Where it is absent, `node:process` is loaded
 * in the background instead.
 */
let cpuUsage = (Deno as unknown as { cpuUsage?: CpuUsage }).cpuUsage ?? null;
if (!cpuUsage) import("node:process").then(({ default: process }) => cpuUsage = process.cpuUsage);

/**
 * This process's CPU time so far (user + system, every thread), in ms; no
 * permission needed. Null only while `node:process` loads, where Deno has no
 * `Deno.cpuUsage`.
 */
export function cpuMs(): number | null {
  if (!cpuUsage) return null;
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

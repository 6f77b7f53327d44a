/**
 * `zpix worker --processes K`: K worker processes of this same program on
 * one machine, each connecting to the server on its own. The parent only
 * waits for them (and passes Ctrl-C on as a graceful stop).
 *
 * @module
 */

import type { WorkerOptions } from "../server/cli.ts";
import { isCompiled, SOURCE_ROOT } from "../server/pool.ts";
import { join } from "node:path";

/** The command line of one child worker process. */
export function childCommandLine(
  options: WorkerOptions,
): { command: string; args: string[] } {
  const args = [
    "worker",
    "--connect",
    options.connect,
    "--server-timeout",
    String(options.serverTimeout),
  ];
  if (options.persist) args.push("--persist");
  if (options.maxTasks) args.push("--max-tasks", String(options.maxTasks));
  if (isCompiled()) return { command: Deno.execPath(), args };
  // A remote worker reads and writes no file: it needs the ZeroMQ addon and nothing else.
  const modules = join(SOURCE_ROOT, "node_modules");
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--cached-only",
      `--config=${join(SOURCE_ROOT, "deno.json")}`,
      `--allow-read=${modules},/etc/alpine-release`,
      `--allow-ffi=${modules}`,
      "--allow-env=ZPIX_TOKEN",
      "--allow-sys=hostname",
      join(SOURCE_ROOT, "main.ts"),
      ...args,
    ],
  };
}

/** Runs K worker processes and resolves to the worst exit code among them. */
export async function runWorkerProcesses(
  options: WorkerOptions,
): Promise<number> {
  const { command, args } = childCommandLine(options);
  const env = options.token ? { ZPIX_TOKEN: options.token } : undefined;
  const children = Array.from(
    { length: options.processes },
    () =>
      new Deno.Command(command, {
        args,
        env,
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn(),
  );
  const forward = (signal: Deno.Signal) => () => {
    for (const child of children) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  };
  const onTerm = forward("SIGTERM");
  Deno.addSignalListener("SIGTERM", onTerm);
  const statuses = await Promise.all(children.map((child) => child.status));
  Deno.removeSignalListener("SIGTERM", onTerm);
  return Math.max(...statuses.map((status) => status.code));
}

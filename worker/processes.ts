/**
 * `zpix worker --processes K`: K worker processes of this same program on
 * one machine, each connecting to the server on its own. The parent only
 * waits for them (and passes SIGINT/SIGTERM on: each child then leaves gracefully).
 *
 * @module
 */

import { join } from "node:path";
import type { WorkerOptions } from "../core/job.ts";
import { isCompiled, selfCommandLine, SOURCE_ROOT } from "../core/runtime.ts";

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
    // A child of a parent that was killed (SIGKILL: nothing forwarded) leaves instead of running on.
    "--exit-with-parent",
  ];
  if (options.persist) args.push("--persist");
  if (options.maxTasks) args.push("--max-tasks", String(options.maxTasks));
  for (const folder of options.sharedFs ?? []) args.push(`--shared-fs=${folder}`);
  // Already resolved to the key itself (main.ts): the children read no key file.
  // One argument with "=": a Z85 key may begin with "-", which would read as a flag.
  if (options.curveServerKey) args.push(`--curve-server-key=${options.curveServerKey}`);
  if (isCompiled()) return { command: Deno.execPath(), args };
  const modules = join(SOURCE_ROOT, "node_modules");
  const shared = options.sharedFs ?? [];
  return selfCommandLine([
    `--allow-read=${[...remoteWorkerReads(), ...shared].join(",")}`,
    ...(shared.length ? [`--allow-write=${shared.join(",")}`] : []),
    `--allow-ffi=${modules}`,
    "--allow-env=ZPIX_TOKEN",
    "--allow-sys=hostname",
  ], args);
}

/**
 * What a remote worker run from source may read: no image and no output
 * (the server sends bytes), only ZeroMQ's addon and codecs' `.wasm` files
 * (`node_modules`), the modules its image thread loads (`worker/`, `task/`, `core/`, `ops/`:
 * Deno checks read access when a Web Worker loads its module graph), and
 * `/etc/alpine-release` (ZeroMQ's loader checks it). deno.json's `worker`
 * task grants the same.
 */
export function remoteWorkerReads(root = SOURCE_ROOT): string[] {
  return [
    ...["node_modules", "worker", "task", "core", "ops"].map((dir) => join(root, dir)),
    "/etc/alpine-release",
  ];
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
  // Each child leaves gracefully on either signal (and ignores the echo of Ctrl-C,
  // which reaches the whole process group).
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const handler = forward(sig);
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  const statuses = await Promise.all(children.map((child) => child.status));
  for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  return Math.max(...statuses.map((status) => status.code));
}

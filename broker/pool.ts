/**
 * Local worker processes: how they are started (least privilege), watched
 * and stopped. Workers are this same program's `worker` subcommand, run by
 * `Deno.execPath()`, so a compiled `zpix` binary spawns itself.
 *
 * @module
 */

import { join } from "node:path";
import { isCompiled, selfCommandLine, SOURCE_ROOT } from "../core/runtime.ts";
import { type Job, STDOUT } from "../core/job.ts";
import { faultPermissions } from "../worker/fault.ts";
import { makePrivateDir, removePrivateDir } from "./private_dir.ts";
import { localName, localWorkerId } from "./gate.ts";

/**
 * The Deno permission flags a local worker runs with: read the input folder
 * (and, from source, the modules and ZeroMQ's addon), write the output
 * folder only, FFI for the ZeroMQ addon only, read `/etc/alpine-release`
 * (ZeroMQ's loader checks it to pick musl or glibc builds), and, when the
 * server has a `--token`, the ZPIX_TOKEN variable it is handed in. Nothing else.
 */
export function workerPermissions(
  job: Pick<Job, "input" | "output"> & { token?: string | null },
  root = SOURCE_ROOT,
): string[] {
  const modules = join(root, "node_modules");
  return [
    `--allow-read=${job.input},${job.output},${modules},/etc/alpine-release`,
    `--allow-write=${job.output}`,
    `--allow-ffi=${modules}`,
    ...(job.token ? ["--allow-env=ZPIX_TOKEN"] : []),
  ];
}

/**
 * The command line that starts one local worker: from source, `deno run`
 * with {@link workerPermissions}; compiled, the binary itself (`zpix worker
 * ...`).
 */
export function workerCommandLine(
  job: Pick<Job, "input" | "output"> & {
    token?: string | null;
    curveServerKey?: string | null;
    batch?: number;
  },
  endpoint: string,
  id: string,
  maxTasks = 0,
  compiled = isCompiled(),
): { command: string; args: string[] } {
  const workerArgs = ["worker", "--connect", endpoint, "--id", id, "--local"];
  if (maxTasks > 0) workerArgs.push("--max-tasks", String(maxTasks));
  if (job.batch !== undefined) workerArgs.push("--batch", String(job.batch));
  // One argument with "=": a Z85 key may begin with "-", which would read as a flag.
  if (job.curveServerKey) workerArgs.push(`--curve-server-key=${job.curveServerKey}`);
  // A compiled binary's permissions are fixed when it is built: the worker narrows itself
  // at start-up instead (narrowWorkerPermissions in cli/permissions.ts).
  if (compiled) return { command: Deno.execPath(), args: workerArgs };
  // Test-only: faultPermissions() is empty unless ZPIX_FAULT is set (see worker/fault.ts).
  return selfCommandLine([...workerPermissions(job), ...faultPermissions()], workerArgs);
}

/** One local worker process. */
export interface LocalWorker {
  /** Worker id (its DEALER routing id). */
  id: string;
  /** The OS process. */
  process: Deno.ChildProcess;
  /** Resolves when it exits. */
  status: Promise<Deno.CommandStatus>;
  /** Its last stderr lines, for error messages. */
  stderr: string[];
}

/** Starts a local worker; its stderr lines go to `onLine`. */
export function spawnWorker(
  job: Pick<Job, "input" | "output"> & {
    token?: string | null;
    curveServerKey?: string | null;
    batch?: number;
  },
  endpoint: string,
  id: string,
  onLine: (line: string) => void,
  maxTasks = 0,
): LocalWorker {
  const { command, args } = workerCommandLine(job, endpoint, id, maxTasks);
  const process = new Deno.Command(command, {
    args,
    // A serve run's own workers present its token like any other (in the environment, not argv).
    env: job.token ? { ZPIX_TOKEN: job.token } : undefined,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const pump = (async () => {
    const lines = process.stderr.pipeThrough(new TextDecoderStream());
    let rest = "";
    for await (const chunk of lines) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        if (!line.trim()) continue;
        stderr.push(line);
        if (stderr.length > 20) stderr.shift();
        onLine(line);
      }
    }
    if (rest.trim()) {
      stderr.push(rest);
      onLine(rest);
    }
  })().catch(() => {});
  running.add(process);
  const status = process.status.then(async (status) => {
    running.delete(process);
    await pump;
    return status;
  });
  return { id, process, status, stderr };
}

const running = new Set<Deno.ChildProcess>();

/**
 * Local workers started at the very beginning of a `parallel` run, before
 * the server has loaded ZeroMQ, listed the input folder or bound its
 * sockets: a worker's start-up (a Deno process, its modules, ZeroMQ) is the
 * longest wait of a short run, and it overlaps the server's own this way.
 * They connect to `endpoint` and keep trying until the broker binds it; the
 * broker adopts them (`run_parallel.ts` `runParallel`).
 */
export interface EarlyPool {
  /** The private folder of the ipc endpoints (removed by {@link disposeEarlyPool}). */
  privateDir: string;
  /** The broker's task endpoint, in `privateDir`. */
  endpoint: string;
  /** The workers, `w1` .. `wN` (ids: {@link localWorkerId}). */
  workers: LocalWorker[];
}

/**
 * Starts `job.workers` local workers for a `parallel` run (no `--bind`,
 * no token, no CURVE); null when that does not apply or they cannot be
 * started here (the broker then starts them itself, and reports any
 * problem as it always did). `onLine` gets each worker's stderr lines.
 */
export function startEarlyPool(
  job: Job,
  onLine: (id: string, line: string) => void,
): EarlyPool | null {
  if (
    job.mode !== "parallel" || job.workers < 1 || job.bind || job.token || job.curveSecret ||
    job.dryRun || job.output === STDOUT // no worker runs: nothing to do, or one image in-process
  ) {
    return null;
  }
  let privateDir: string | null = null;
  const workers: LocalWorker[] = [];
  try {
    privateDir = makePrivateDir();
    const endpoint = `ipc://${privateDir}/tasks`;
    for (let i = 1; i <= job.workers; i++) {
      const id = localWorkerId(i);
      workers.push(
        spawnWorker(
          job,
          endpoint,
          id,
          (line) => onLine(localName(id), line),
          job.maxTasksPerWorker,
        ),
      );
    }
    return { privateDir, endpoint, workers };
  } catch {
    void disposeEarlyPool({ privateDir: privateDir ?? "", endpoint: "", workers });
    return null;
  }
}

/**
 * Kills whatever is left of an early pool (nothing, once the broker has
 * shut its workers down) and removes its private folder.
 */
export async function disposeEarlyPool(pool: EarlyPool): Promise<void> {
  for (const worker of pool.workers) {
    if (!running.has(worker.process)) continue;
    try {
      worker.process.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
  await Promise.all(pool.workers.map((w) => w.status));
  if (pool.privateDir) await removePrivateDir(pool.privateDir);
}

/** SIGKILLs every local worker still running: for an exit that cannot wait (a second Ctrl-C). */
export function killLocalWorkers(): void {
  for (const process of running) {
    try {
      process.kill("SIGKILL");
    } catch {
      // already exited
    }
  }
}

/** Describes how a worker process ended, for the report. */
export function describeExit(status: Deno.CommandStatus): string {
  if (status.signal) return `worker process killed by ${status.signal}`;
  return `worker process exited with code ${status.code}`;
}

/**
 * zpix — the command-line entry point. Picks the subcommand, turns errors
 * into one clear line and an exit code, and wires Ctrl-C / SIGTERM to a
 * clean stop.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { COMMANDS, parseJob, parseWorker, userCwd } from "./cli/args.ts";
import { HELP } from "./cli/help.ts";
import { Log } from "./core/log.ts";
import {
  disposeEarlyPool,
  type EarlyPool,
  killLocalWorkers,
  startEarlyPool,
} from "./broker/pool.ts";
import {
  narrowWorkerPermissions,
  permissionAdvice,
  requireJobPermissions,
  requireSharedFolders,
  requireZeroMqFfi,
} from "./cli/permissions.ts";
import type { Job } from "./core/job.ts";
import type { Mode } from "./run/run.ts";
import { EXIT, RunError, UsageError } from "./core/errors.ts";
import { resolveInputFile } from "./run/plan.ts";

/**
 * A signal that repeats the first within this many ms is its echo (`deno task`
 * forwarding a Ctrl-C that the terminal also delivered), not a second
 * Ctrl-C. A person's second Ctrl-C comes far later than this.
 */
export const SIGNAL_ECHO_MS = 100;

/** How often a `--exit-with-parent` worker checks that its parent is still there, in ms. */
export const PARENT_CHECK_MS = 250;

function printError(message: string, helpFor?: string): void {
  console.error(`zpix: error: ${message}`);
  if (helpFor) console.error(`Run "zpix ${helpFor} --help" for usage.`);
}

/**
 * The ZeroMQ broker, loaded once FFI (ZeroMQ's native addon) is known to be
 * granted; it adopts the local workers already started for this run.
 */
async function loadBroker(pool: EarlyPool | null): Promise<Mode> {
  requireZeroMqFfi();
  const { runParallel } = await import("./broker/run_parallel.ts");
  return (job, tasks, recorder, signal) =>
    runParallel(job, tasks, recorder, signal, pool ?? undefined);
}

async function runJobCommand(
  mode: Job["mode"],
  args: string[],
): Promise<number> {
  const parsed = parseJob(mode, args);
  if (parsed.kind === "help") {
    console.log(HELP[mode]);
    return EXIT.ok;
  }
  requireJobPermissions(parsed.job);
  const job = await resolveInputFile(parsed.job);
  const controller = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let stoppedAt = 0;
  const handlers = signals.map((sig) => {
    const handler = () => {
      // `deno task` forwards a terminal's Ctrl-C to its child, which also gets it from the
      // terminal: the same signal twice within a millisecond is one Ctrl-C, not two.
      if (controller.signal.aborted && performance.now() - stoppedAt < SIGNAL_ECHO_MS) return;
      if (controller.signal.aborted) {
        killLocalWorkers(); // they may be stuck in a task, deaf to quit
        Deno.exit(sig === "SIGINT" ? EXIT.sigint : EXIT.sigterm);
      }
      log.warn(
        `${sig}: stopping; finished images are kept, nothing partial is left`,
      );
      stoppedAt = performance.now();
      controller.abort(sig);
    };
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  const log = new Log(job);
  // Local workers start now, while this process loads the rest of zpix and plans the run.
  const pool = startEarlyPool(job, (id, line) => log.warn(`${id}: ${line}`));
  try {
    const { runJob } = await import("./run/run.ts");
    const { exitCode } = await runJob(job, {
      signal: controller.signal,
      log,
      loadMode: () => loadBroker(pool),
    });
    return exitCode;
  } finally {
    if (pool) await disposeEarlyPool(pool);
    for (const [sig, handler] of handlers) {
      Deno.removeSignalListener(sig, handler);
    }
  }
}

async function runWorkerCommand(args: string[]): Promise<number> {
  const options = parseWorker(args);
  if (options === "help") {
    console.log(HELP.worker);
    return EXIT.ok;
  }
  // Ctrl-C reaches the whole process group: a local worker leaves stopping to its server.
  if (options.local) Deno.addSignalListener("SIGINT", () => {});
  requireZeroMqFfi();
  if (options.sharedFs) requireSharedFolders(options.sharedFs);
  if (options.curveServerKey) {
    const { loadServerKey } = await import("./transport/curve.ts");
    options.curveServerKey = await loadServerKey(options.curveServerKey);
  }
  await narrowWorkerPermissions(options);
  const { runWorker, WORKER_EXIT } = await import("./worker/worker.ts");
  if (options.processes === 1) {
    // A remote worker stops gracefully on SIGINT/SIGTERM (finishes its task, leaves); twice: now.
    // (A signal within a second of the first is its echo: Ctrl-C reaches a --processes parent too.)
    const stop = new AbortController();
    let stoppedAt = 0;
    if (!options.local) {
      for (const sig of ["SIGINT", "SIGTERM"] as const) {
        Deno.addSignalListener(sig, () => {
          if (stop.signal.aborted && performance.now() - stoppedAt < 1000) return;
          if (stop.signal.aborted) Deno.exit(sig === "SIGINT" ? EXIT.sigint : EXIT.sigterm);
          stoppedAt = performance.now();
          console.error(`zpix: worker: ${sig}: finishing the current image, then leaving`);
          stop.abort(sig);
        });
      }
    }
    // --exit-with-parent: a parent's death reparents this process, which Deno.ppid shows.
    const parent = Deno.ppid;
    const watch = options.exitWithParent
      ? setInterval(() => {
        if (Deno.ppid === parent || stop.signal.aborted) return;
        console.error(
          "zpix: worker: its parent process is gone: finishing the current image, then leaving",
        );
        stop.abort("parent");
      }, PARENT_CHECK_MS)
      : undefined;
    if (watch !== undefined) Deno.unrefTimer(watch);
    try {
      let code = await runWorker(options, console.error, stop.signal);
      while (options.persist && code !== WORKER_EXIT.refused && !stop.signal.aborted) {
        console.error(`zpix: worker: run over; waiting for the next server at ${options.connect}`);
        code = await runWorker(options, console.error, stop.signal);
      }
      return code;
    } finally {
      clearInterval(watch);
    }
  }
  const { runWorkerProcesses } = await import("./worker/processes.ts");
  return await runWorkerProcesses(options);
}

async function runKeygen(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP.keygen);
    return EXIT.ok;
  }
  if (args.length !== 1 || args[0].startsWith("-")) {
    throw new UsageError("keygen takes one argument: the folder to write the keys to");
  }
  const { keygen } = await import("./transport/curve.ts");
  const written = await keygen(resolve(userCwd(), args[0]));
  console.log(`secret (server only): ${written.secret}\npublic (for workers): ${written.public}`);
  return EXIT.ok;
}

async function runDemo(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP.demo);
    return EXIT.ok;
  }
  const at = args.indexOf("--output");
  const root = resolve(userCwd(), at >= 0 && args[at + 1] ? args[at + 1] : ".zpix-demo");
  const { writeSamples } = await import("./cli/demo.ts");
  const input = join(root, "input");
  const count = await writeSamples(input, 24);
  console.error(`zpix: demo: wrote ${count} sample images to ${input}`);
  const code = await runJobCommand("parallel", [
    "--input",
    input,
    "--output",
    join(root, "output"),
    "--size",
    "512",
    "512",
    "--report",
    join(root, "report.html"),
    "--report",
    join(root, "report.json"),
    ...args.filter((_, i) => i !== at && i !== at + 1),
  ]);
  console.log(
    `outputs: ${join(root, "output")}\nreport:  ${join(root, "report.html")} (and report.json)`,
  );
  return code;
}

/** Runs zpix with the given arguments; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    console.error(HELP.main);
    return EXIT.usage;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    const topic = COMMANDS[rest[0] ?? ""];
    console.log(HELP[topic && topic !== "help" ? topic : "main"]);
    return EXIT.ok;
  }
  if (first === "--version") {
    console.log("zpix 0.1.0");
    return EXIT.ok;
  }
  const command = COMMANDS[first];
  try {
    if (!command) {
      throw new UsageError(
        `unknown command "${first}": use sequential, parallel, serve, worker, keygen or demo`,
      );
    }
    switch (command) {
      case "worker":
        return await runWorkerCommand(rest);
      case "demo":
        return await runDemo(rest);
      case "keygen":
        return await runKeygen(rest);
      default:
        return await runJobCommand(command as Job["mode"], rest);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof RunError) {
      printError(error.message, error instanceof UsageError ? command : undefined);
      return error.exitCode;
    }
    if (
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied
    ) {
      printError(
        error instanceof Deno.errors.NotCapable
          ? permissionAdvice(error)
          : (error as Error).message,
      );
      return EXIT.runFailed;
    }
    printError(error instanceof Error ? error.message : String(error));
    return EXIT.runFailed;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

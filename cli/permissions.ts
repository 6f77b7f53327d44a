/**
 * Permission checks made before a permission is first used, where Deno's own
 * failure would be unclear: `transport/zmq.ts` tries several native addon
 * builds and would report each failed attempt when FFI is not granted. The errors
 * thrown here use Deno's wording ("Requires ffi access to ..."), so
 * {@link permissionAdvice} names the flag.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { isCompiled, SOURCE_ROOT } from "../core/runtime.ts";
import { type Job, STDOUT } from "../core/job.ts";
import { UsageError } from "../core/errors.ts";

/** Grants `descriptor`, asking on a terminal when Deno may prompt; true when granted. */
function granted(descriptor: Deno.PermissionDescriptor): boolean {
  let state = Deno.permissions.querySync(descriptor).state;
  if (state === "prompt") state = Deno.permissions.requestSync(descriptor).state;
  return state === "granted";
}

/**
 * Throws `Deno.errors.NotCapable` unless this process may load ZeroMQ's
 * native addon (`--allow-ffi`; from source, `--allow-ffi=<repo>/node_modules`
 * suffices; a compiled binary has its addon in a temporary folder, so needs
 * `--allow-ffi`).
 */
export function requireZeroMqFfi(compiled = isCompiled()): void {
  const path = join(SOURCE_ROOT, "node_modules");
  if (granted(compiled ? { name: "ffi" } : { name: "ffi", path })) return;
  throw new Deno.errors.NotCapable(
    compiled ? `Requires ffi access` : `Requires ffi access to "${path}"`,
  );
}

/**
 * Throws `Deno.errors.NotCapable`, in Deno's wording so that `main.ts` names
 * the flag and the real path, unless this process may read `--input`, read
 * and write `--output` (the folder: outputs are written to temporary names
 * beside their final ones, then renamed), and read and write the folder of
 * each `--report` (written the same way), and, with local workers, run
 * this program (`Deno.execPath()`, the workers' command). Checked once,
 * before planning: a run that could not write its outputs or its report, or
 * start its workers, processes nothing.
 */
export function requireJobPermissions(
  job: Pick<Job, "input" | "output" | "reports" | "mode" | "workers">,
): void {
  const needs: [("read" | "write"), string][] = [
    ["read", job.input],
    ...(job.output === STDOUT ? [] : [
      ["read", job.output] as ["read", string],
      ["write", job.output] as ["write", string],
    ]),
    ...job.reports.flatMap((report) => [
      ["read", dirname(report)] as ["read", string],
      ["write", dirname(report)] as ["write", string],
    ]),
  ];
  for (const [name, path] of needs) {
    if (!granted({ name, path })) {
      throw new Deno.errors.NotCapable(`Requires ${name} access to "${path}"`);
    }
  }
  const command = Deno.execPath();
  const workers = job.mode !== "sequential" && job.workers > 0 && job.output !== STDOUT;
  if (workers && !granted({ name: "run", command })) {
    throw new Deno.errors.NotCapable(`Requires run access to "${command}"`);
  }
}

/** What a worker process may give up once started. */
export interface WorkerNeeds {
  /** A local worker (spawned by its server, which owns the token and the host name). */
  local: boolean;
  /** Worker processes it starts itself (`--processes K`): above 1 it needs `--allow-run`. */
  processes: number;
}

/**
 * A compiled `zpix` binary carries the permissions it was built with, and a
 * worker is the same binary: at start-up it revokes what it does not need
 * (spawning processes unless `--processes` > 1; environment, system
 * information and network for a local worker). Deno cannot narrow a global
 * read/write/ffi grant to a path by revoking, so those stay as compiled.
 * From source, the worker was already started with narrow flags: nothing
 * to do. Returns the permissions revoked.
 */
export async function narrowWorkerPermissions(
  needs: WorkerNeeds,
  compiled = isCompiled(),
): Promise<Deno.PermissionName[]> {
  if (!compiled) return [];
  const drop: Deno.PermissionName[] = ["net"];
  if (needs.processes <= 1) drop.push("run");
  if (needs.local) drop.push("env", "sys");
  for (const name of drop) {
    await Deno.permissions.revoke({ name } as Deno.PermissionDescriptor);
  }
  return drop;
}

/** Turns a missing Deno permission into advice that names the flag. */
export function permissionAdvice(error: Error): string {
  const match = /Requires (\w+) access(?: to "?([^",]+)"?)?/.exec(
    error.message,
  );
  const kind = match?.[1] ?? "some";
  const flag = {
    read: "--allow-read",
    write: "--allow-write",
    ffi: "--allow-ffi",
    run: "--allow-run",
    env: "--allow-env",
    net: "--allow-net",
    sys: "--allow-sys",
  }[kind] ??
    `--allow-${kind}`;
  const target = match?.[2] ? ` to ${match[2]}` : "";
  return `missing permission: zpix needs ${kind} access${target}; run it with ${flag}${
    match?.[2] ? `=${match[2]}` : ""
  } (see "Permissions" in the README)`;
}

/**
 * Checks each `worker --shared-fs` folder at start-up: it exists, is a
 * folder, and this process may read and write it (Deno's `--allow-read` and
 * `--allow-write`; a remote worker from source grants neither by default).
 * Throws {@link UsageError} saying what to add: `bin/zpix` adds the folders
 * to its flags itself; `deno run` needs them in both lists.
 */
export function requireSharedFolders(folders: readonly string[]): void {
  for (const path of folders) {
    const missing = (["read", "write"] as const).filter((name) => !granted({ name, path }));
    if (missing.includes("read")) throw sandboxAdvice(path, missing);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new UsageError(`--shared-fs ${path}: no such folder`);
      }
      throw new UsageError(`--shared-fs ${path}: ${(error as Error).message}`);
    }
    if (!info.isDirectory) throw new UsageError(`--shared-fs ${path}: not a folder`);
    if (missing.length) throw sandboxAdvice(path, missing);
  }
}

function sandboxAdvice(path: string, missing: readonly string[]): UsageError {
  return new UsageError(
    `--shared-fs ${path}: this worker may not ${missing.join(" or ")} it; ` +
      `add it to Deno's flags: --allow-read=...,${path} --allow-write=${path} ` +
      `(bin/zpix adds every --shared-fs folder itself; see docs/permissions.md)`,
  );
}

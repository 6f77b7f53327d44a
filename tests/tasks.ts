/**
 * The `deno task` command lines of deno.json, for tests that run zpix under
 * exactly the flags its tasks use.
 *
 * @module
 */

import { join } from "node:path";
import { SOURCE_ROOT } from "../core/runtime.ts";

/** deno.json's tasks, by name. */
export const TASKS: Readonly<Record<string, string>> = JSON.parse(
  Deno.readTextFileSync(join(SOURCE_ROOT, "deno.json")),
).tasks;

/** A task's words, with `$(readlink -f $(which deno))` expanded to this Deno. */
export function taskWords(task: string): string[] {
  return TASKS[task]
    .replaceAll("$(readlink -f $(which deno))", Deno.realPathSync(Deno.execPath()))
    .split(/\s+/);
}

/** The `--allow-*` flags of a task. */
export function taskFlags(task: string): string[] {
  return taskWords(task).filter((word) => word.startsWith("--allow-"));
}

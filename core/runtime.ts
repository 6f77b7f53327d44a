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

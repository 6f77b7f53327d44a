/**
 * Flags of the benchmark scripts: `node:util` `parseArgs` with a usage. `--help`
 * (or `-h`) prints the script's own doc comment and exits 0; a flag it does not
 * know, or one without its value, prints what is wrong and that doc comment and
 * exits 2, not a stack trace.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The doc comment at the top of the script at `script` (a file URL), as plain text. */
export function usageOf(script: string): string {
  const text = Deno.readTextFileSync(new URL(script));
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? "";
  return doc.split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .filter((line) => line.trim() !== "@module")
    .join("\n")
    .trim();
}

/**
 * `parseArgs(config)` for the benchmark script at `script` (its
 * `import.meta.url`), with `--help` and clear errors (see the module doc).
 * Only the flags before a `--` are looked at for `--help`.
 */
export function benchArgs<T extends Parameters<typeof parseArgs>[0] & object>(
  script: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? Deno.args;
  const split = args.indexOf("--");
  const own = split >= 0 ? args.slice(0, split) : args;
  if (own.includes("--help") || own.includes("-h")) {
    console.log(usageOf(script));
    Deno.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usageOf(script)}`);
    Deno.exit(2);
  }
}

/**
 * Loading an npm module when it is first needed, and not before.
 *
 * `deno run` resolves every statically analysable `import("…")` of the
 * whole module graph before main.ts starts, and for each npm package that
 * one names it checks the node_modules folder again (about 25 ms of CPU on
 * every start: 16 such checks for `zpix sequential --help`, measured with
 * strace). An import whose specifier is a variable is resolved only when it
 * runs. Every npm module zpix loads lazily goes through {@link importNpm};
 * `npm_roots.ts` names them all for `deno compile` (which embeds only what
 * the graph names), and tests/architecture_test.ts checks that it does.
 * Local modules keep their literal `import("./…")`: those need no read
 * permission when they run, which a narrowed `--allow-read` relies on.
 *
 * @module
 */

/** Imports the npm module `specifier` (a bare name from deno.json's imports) when called. */
export function importNpm<T>(specifier: string): Promise<T> {
  return import(specifier);
}

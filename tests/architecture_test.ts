/**
 * The architecture, checked: every product `.ts` file's imports are parsed
 * and the rules of docs/architecture.md asserted — imports run one way
 * between the top-level folders (the ALLOWED table below), no two folders
 * import each other, no file-level import cycle, no product file over 500
 * lines, `mod.ts` files only re-export, every export has a doc comment,
 * and every import map entry in deno.json is used somewhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * The folders (rooms) and what each may import, top to bottom. `main` is
 * main.ts. Anything not listed is refused.
 */
const ALLOWED: Record<string, readonly string[]> = {
  main: ["cli", "run", "broker", "worker", "transport", "report", "task", "core", "ops"],
  cli: ["core", "ops"],
  broker: ["run", "worker", "transport", "report", "task", "core", "ops"],
  run: ["report", "task", "core", "ops"],
  worker: ["transport", "task", "core", "ops"],
  transport: ["core", "ops"],
  report: ["core", "ops"],
  task: ["core", "ops"],
  core: ["ops"],
  ops: [],
};

/** Product files exempt from the 500-line limit: AssemblyScript kernels and generated code. */
const LONG_OK = [/^ops\/kernels\/assembly\//, /^ops\/kernels\/kernels_wasm\.ts$/];
const MAX_LINES = 500;

/** Test code and benchmarks: not product code. */
const isTestCode = (rel: string) =>
  rel.startsWith("tests/") || /(^|\/)(test_[^/]*|[^/]*_test|[^/]*_bench)\.ts$/.test(rel);

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) await walk(path, out);
    else if (entry.name.endsWith(".ts")) out.push(relative(ROOT, path));
  }
  return out.sort();
}

/** The source with comments blanked out (strings and template literals kept). */
export function stripComments(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i], next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Every module specifier a file imports: static, re-exports, side effects, dynamic, Worker URLs. */
export function importsOf(source: string): string[] {
  const code = stripComments(source);
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /new\s+URL\(\s*["'](\.{1,2}\/[^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]));
}

/** The room a repository-relative file belongs to. */
const roomOf = (rel: string) => rel.includes("/") ? rel.split("/")[0] : rel.replace(/\.ts$/, "");

const all = await walk(ROOT);
const product = all.filter((rel) => !isTestCode(rel));
const edges = new Map<string, string[]>();
for (const rel of product) {
  const source = await Deno.readTextFile(join(ROOT, rel));
  const targets: string[] = [];
  for (const spec of importsOf(source)) {
    if (!spec.startsWith(".")) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(rel), spec.split("?")[0]));
    targets.push(target);
  }
  edges.set(rel, targets);
}

Deno.test("architecture: every product file lives in a known room", () => {
  const unknown = product.filter((rel) => !(roomOf(rel) in ALLOWED));
  assert.deepEqual(unknown, [], `files outside the rooms of ALLOWED: ${unknown.join(", ")}`);
});

Deno.test("architecture: every relative import names an existing product file", async () => {
  const missing: string[] = [];
  for (const [from, targets] of edges) {
    for (const target of targets) {
      if (!(await Deno.stat(join(ROOT, target)).then(() => true, () => false))) {
        missing.push(`${from} -> ${target}`);
      }
      if (isTestCode(target)) missing.push(`${from} -> ${target} (test code)`);
    }
  }
  assert.deepEqual(missing, [], `broken or test-code imports:\n  ${missing.join("\n  ")}`);
});

Deno.test("architecture: the rooms' import table itself runs one way", () => {
  const order: string[] = [];
  const visit = (room: string, path: string[]) => {
    assert.ok(!path.includes(room), `ALLOWED has a cycle: ${[...path, room].join(" -> ")}`);
    if (order.includes(room)) return;
    for (const next of ALLOWED[room]) visit(next, [...path, room]);
    order.push(room);
  };
  for (const room of Object.keys(ALLOWED)) visit(room, []);
});

Deno.test("architecture: imports between rooms follow the allowed direction", () => {
  const wrong: string[] = [];
  for (const [from, targets] of edges) {
    for (const target of targets) {
      const a = roomOf(from), b = roomOf(target);
      if (a !== b && !(ALLOWED[a] ?? []).includes(b)) {
        wrong.push(
          `${from} imports ${target}: ${a}/ may import only ${ALLOWED[a]?.join(", ") || "nothing"}`,
        );
      }
    }
  }
  assert.deepEqual(wrong, [], `imports against the direction:\n  ${wrong.join("\n  ")}`);
});

Deno.test("architecture: no two rooms import each other", () => {
  const pairs = new Set<string>();
  for (const [from, targets] of edges) {
    for (const target of targets) {
      if (roomOf(from) !== roomOf(target)) pairs.add(`${roomOf(from)} -> ${roomOf(target)}`);
    }
  }
  const mutual = [...pairs].filter((pair) => {
    const [a, b] = pair.split(" -> ");
    return a < b && pairs.has(`${b} -> ${a}`);
  });
  assert.deepEqual(mutual, [], `rooms that import each other: ${mutual.join("; ")}`);
});

Deno.test("architecture: no import cycle between files (dynamic imports included)", () => {
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") {
      const loop = [...path.slice(path.indexOf(file)), file];
      if (loop.length > 2 || loop[0] !== loop[1]) cycles.push(loop.join(" -> "));
      return;
    }
    state.set(file, "visiting");
    for (const next of edges.get(file) ?? []) if (next !== file) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of edges.keys()) visit(file, []);
  assert.deepEqual(cycles, [], `import cycles:\n  ${cycles.join("\n  ")}`);
});

Deno.test(`architecture: no product file over ${MAX_LINES} lines`, async () => {
  const long: string[] = [];
  for (const rel of product) {
    if (LONG_OK.some((pattern) => pattern.test(rel))) continue;
    const lines = (await Deno.readTextFile(join(ROOT, rel))).split("\n").length - 1;
    if (lines > MAX_LINES) long.push(`${rel}: ${lines} lines`);
  }
  assert.deepEqual(long, [], `split these files:\n  ${long.join("\n  ")}`);
});

Deno.test("architecture: mod.ts files only re-export", async () => {
  const wrong: string[] = [];
  for (const rel of product.filter((rel) => rel.endsWith("/mod.ts"))) {
    const code = stripComments(await Deno.readTextFile(join(ROOT, rel)));
    const rest = code.replace(
      /\bexport\s+(?:type\s+)?(?:\*|\{[^}]*\})\s*from\s*["'][^"']+["'];?/g,
      "",
    );
    if (rest.trim()) wrong.push(`${rel}: ${rest.trim().split("\n")[0]}`);
  }
  assert.deepEqual(wrong, [], `mod.ts with more than re-exports:\n  ${wrong.join("\n  ")}`);
});

Deno.test("architecture: every export of a product file has a doc comment", async () => {
  const undocumented: string[] = [];
  for (const rel of product.filter((rel) => !LONG_OK.some((pattern) => pattern.test(rel)))) {
    const lines = (await Deno.readTextFile(join(ROOT, rel))).split("\n");
    lines.forEach((line, i) => {
      if (!/^export (async )?(function|const|class|interface|type|let|enum)\b/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && lines[j].startsWith("//")) j--; // deno-fmt-ignore and the like
      if (j < 0 || !lines[j].trimEnd().endsWith("*/")) undocumented.push(`${rel}:${i + 1}: ${line}`);
    });
  }
  assert.deepEqual(
    undocumented,
    [],
    `exports without a doc comment:\n  ${undocumented.join("\n  ")}`,
  );
});

Deno.test("architecture: every deno.json import is used", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const specifiers = new Set<string>();
  for (const rel of all) {
    for (const spec of importsOf(await Deno.readTextFile(join(ROOT, rel)))) specifiers.add(spec);
    // import.meta.resolve("pkg/...") reads a package's files without importing them.
    const source = stripComments(await Deno.readTextFile(join(ROOT, rel)));
    for (const m of source.matchAll(/import\.meta\.resolve\(\s*["']([^"']+)["']/g)) {
      specifiers.add(m[1]);
    }
  }
  const configs = [config];
  const unused = Object.keys(configs[0].imports ?? {}).filter((name) =>
    ![...specifiers].some((spec) => spec === name || spec.startsWith(`${name}/`))
  );
  assert.deepEqual(unused, [], `deno.json imports nothing uses: ${unused.join(", ")}`);
});

Deno.test("architecture: every npm module loaded with importNpm is in ops/npm_roots.ts (deno compile embeds those)", async () => {
  const loaded = new Set<string>();
  const literal = new Set<string>();
  for (const rel of product) {
    const source = stripComments(await Deno.readTextFile(join(ROOT, rel)));
    for (const m of source.matchAll(/\bimportNpm<[^>]*>\(\s*["']([^"']+)["']/gs)) loaded.add(m[1]);
    // A literal import("npm-name") makes `deno run` resolve the package before main.ts starts
    // (node: built-ins are no packages).
    for (
      const m of source.matchAll(/(?<!typeof\s*)\bimport\s*\(\s*["'](?!node:)([^"'.][^"']*)["']/g)
    ) {
      literal.add(`${rel}: ${m[1]}`);
    }
  }
  const roots = new Set(importsOf(await Deno.readTextFile(join(ROOT, "ops", "npm_roots.ts"))));
  assert.ok(loaded.size > 0, "no importNpm call found");
  assert.deepEqual([...loaded].filter((spec) => !roots.has(spec)), [], "missing from npm_roots.ts");
  assert.deepEqual([...roots].filter((spec) => !loaded.has(spec)), [], "npm_roots.ts lists unused");
  assert.deepEqual([...literal], [], "use importNpm for these (see ops/npm.ts)");
  const { tasks } = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  assert.match(tasks.compile, /--include ops\/npm_roots\.ts/);
});

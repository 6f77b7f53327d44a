/**
 * The single `zpix` binary (`deno task compile`).
 *
 * Building it needs Deno's base runtime binary (`denort`), downloaded from
 * dl.deno.land on first use (or given as DENORT_BIN). The build runs once,
 * as this file loads. Where the download works, the binary runs a parallel
 * job: embedded WASM (kernels as base64 TS, jsquash's .wasm from the
 * embedded npm packages), workers spawned as the binary itself. Where it
 * does not (as on our machines), the first test checks that `deno
 * compile`, with the task's exact flags, type-checks and bundles everything
 * and fails only at that download, and the second is ignored, saying why.
 * The self-spawn command line and the compiled worker's self-narrowing are
 * checked either way, with `isCompiled` injected.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { workerCommandLine, workerPermissions } from "../broker/pool.ts";
import { childCommandLine } from "../worker/processes.ts";
import { parseWorker } from "../cli/args.ts";
import type { WorkerOptions } from "../core/job.ts";
import { taskFlags, taskWords } from "./tasks.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";

const decoder = new TextDecoder();

/**
 * `deno task compile`, with the task's exact flags, into a temporary folder:
 * run once when this file loads, shared by the two tests below.
 */
async function compileOnce(): Promise<{ dir: string; built: boolean; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "zpix-compile-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  const words = taskWords("compile");
  assert.deepEqual(words.slice(0, 2), ["deno", "compile"]);
  const output = words.indexOf("--output");
  assert.ok(output > 0, "the compile task names its --output");
  const args = words.slice(1);
  args[output] = join(dir, "zpix");
  const build = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: SOURCE_ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(240_000),
  }).output();
  return { dir, built: build.success, stderr: decoder.decode(build.stderr) };
}

const compiled = await compileOnce();

Deno.test("deno task compile: type checks and bundles everything; builds zpix or fails only at downloading the base binary", () => {
  if (compiled.built) {
    assert.ok(Deno.statSync(join(compiled.dir, "zpix")).isFile); // the next test runs it
    return;
  }
  // Everything before the download worked: no type, module or npm resolution error.
  const { stderr } = compiled;
  assert.match(stderr, /Setting up base binary/, stderr);
  assert.match(stderr, /denort-[\w-]+\.zip/, stderr);
  assert.match(stderr, /dl\.deno\.land|DENORT_BIN/, stderr);
  assert.doesNotMatch(stderr, /TS\d{4}|Module not found|not a dependency|Relative import/);
});

Deno.test({
  name: "the compiled zpix runs a parallel job from an unrelated folder, its workers being itself" +
    (compiled.built ? "" : " (ignored: deno compile could not fetch denort, set DENORT_BIN)"),
  ignore: !compiled.built,
  sanitizeResources: false,
  async fn() {
    const dir = compiled.dir;
    const input = join(dir, "in");
    await Deno.mkdir(input);
    const fixtures = join(SOURCE_ROOT, "tests", "fixtures");
    await Deno.copyFile(join(fixtures, "quad_baseline.jpg"), join(input, "a.jpg"));
    await Deno.copyFile(join(fixtures, "quad.png"), join(input, "b.png"));
    const run = await new Deno.Command(join(dir, "zpix"), {
      args: [
        "parallel",
        "-i",
        input,
        "-o",
        join(dir, "out"),
        "-w",
        "2",
        "--report",
        join(dir, "r.json"),
      ],
      cwd: dir, // not the repository: nothing may be read from its layout
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    assert.equal(run.code, 0, decoder.decode(run.stderr));
    assert.deepEqual([...Deno.readDirSync(join(dir, "out"))].map((e) => e.name).sort(), [
      "a.jpg",
      "b.png",
    ]);
    const report = JSON.parse(await Deno.readTextFile(join(dir, "r.json")));
    assert.ok(report.workers.length >= 1);
  },
});

/** The most `deno task compile` may embed (the issue-12 budget; it was 143 MB with build tools). */
const MAX_EMBEDDED_MB = 30;

Deno.test({
  name:
    `deno task compile embeds under ${MAX_EMBEDDED_MB} MB (build tools, sources and unlisted addons excluded)`,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "zpix-embed-" });
    try {
      const args = taskWords("compile").slice(1);
      args[args.indexOf("--output") + 1] = join(dir, "zpix");
      // Deno itself as the base binary: the output does not run, but deno compile lists and
      // sizes what it embeds without downloading denort.
      const build = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: SOURCE_ROOT,
        env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(240_000),
      }).output();
      const out = decoder.decode(build.stdout) + decoder.decode(build.stderr);
      assert.ok(build.success, out);
      const files = /^Files: ([\d.]+)(KB|MB|GB)$/m.exec(out);
      assert.ok(files, out);
      const mb = Number(files[1]) * { KB: 1 / 1024, MB: 1, GB: 1024 }[files[2] as "KB"];
      assert.ok(mb < MAX_EMBEDDED_MB, `deno compile embeds ${files[1]}${files[2]}:\n${out}`);
      // What runs is still there: ZeroMQ's addons for this platform and the codecs' WASM.
      assert.match(out, /manifest\.json/);
      assert.match(out, /@jsquash\+jpeg/);
      assert.doesNotMatch(out, /wasm-opt|asc\.js/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("compiled: a worker is the binary itself, `zpix worker ...`, no deno run flags", () => {
  const job = { input: "/data/in", output: "/data/out" };
  const compiled = workerCommandLine(job, "ipc:///tmp/x", "w3", 5, true);
  assert.equal(compiled.command, Deno.execPath());
  assert.deepEqual(compiled.args, [
    "worker",
    "--connect",
    "ipc:///tmp/x",
    "--id",
    "w3",
    "--local",
    "--max-tasks",
    "5",
  ]);
  const source = workerCommandLine(job, "ipc:///tmp/x", "w3", 0, false);
  assert.equal(source.args[0], "run");
  for (const flag of workerPermissions(job)) assert.ok(source.args.includes(flag), flag);
  assert.ok(source.args.includes(join(SOURCE_ROOT, "main.ts")));
});

Deno.test('worker command lines: a CURVE key that begins with "-" reaches the worker intact', () => {
  // Z85 keys may begin with "-"; as a separate argument it would read as a flag ("needs a value").
  const key = "-" + "a".repeat(39);
  const job = { input: "/data/in", output: "/data/out", curveServerKey: key };
  const local = workerCommandLine(job, "ipc:///tmp/x", "w3", 0, true);
  const options: WorkerOptions = {
    connect: "tcp://127.0.0.1:5555",
    token: null,
    processes: 2,
    persist: false,
    id: null,
    serverTimeout: 5,
    maxTasks: 0,
    batch: 1,
    curveServerKey: key,
    local: false,
    exitWithParent: false,
  };
  const child = childCommandLine(options);
  for (const args of [local.args, child.args]) {
    const parsed = parseWorker(args.slice(args.indexOf("worker") + 1));
    assert.notEqual(parsed, "help");
    assert.equal((parsed as WorkerOptions).curveServerKey, key);
  }
});

/** Runs a snippet under the compile task's flags (what the binary is granted). */
async function underCompiledFlags(code: string): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "zpix-narrow-" });
  try {
    const script = join(dir, "probe.ts");
    await Deno.writeTextFile(script, code);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--config=${join(SOURCE_ROOT, "deno.json")}`,
        ...taskFlags("compile"),
        script,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(out.code, 0, decoder.decode(out.stderr));
    return JSON.parse(decoder.decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const PROBE = (needs: string) => `
import { narrowWorkerPermissions, requireZeroMqFfi } from "${new URL(
  "../cli/permissions.ts",
  import.meta.url,
)}";
const revoked = await narrowWorkerPermissions(${needs}, true);
const state = (d) => Deno.permissions.querySync(d).state;
requireZeroMqFfi(true);
console.log(JSON.stringify({
  revoked,
  run: state({ name: "run" }), env: state({ name: "env", variable: "ZPIX_TOKEN" }),
  sys: state({ name: "sys", kind: "hostname" }), net: state({ name: "net" }),
  read: state({ name: "read" }), write: state({ name: "write" }), ffi: state({ name: "ffi" }),
}));
`;

Deno.test("compiled: a local worker gives up run, env, sys and net at start-up", async () => {
  const states = await underCompiledFlags(PROBE("{ local: true, processes: 1 }"));
  for (const name of ["run", "env", "sys", "net"]) assert.notEqual(states[name], "granted", name);
  // Deno cannot narrow a global grant to a path: these stay as compiled (see docs/permissions.md).
  for (const name of ["read", "write", "ffi"]) assert.equal(states[name], "granted", name);
});

Deno.test("compiled: a remote worker with --processes 4 keeps run, env and sys", async () => {
  const states = await underCompiledFlags(PROBE("{ local: false, processes: 4 }"));
  assert.deepEqual(states.revoked, ["net"]);
  for (const name of ["run", "env", "sys"]) assert.equal(states[name], "granted", name);
});

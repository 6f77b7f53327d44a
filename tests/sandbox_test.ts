/**
 * Sandboxed runs: each `deno task` runs zpix under the permission flags
 * written in deno.json, parsed from the task strings here. A job must
 * succeed under exactly those flags, and dropping any one flag must show
 * why it is there: a one-line error naming the flag (never a stack trace),
 * or, for the optional ones, the feature it enables going missing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { permissionAdvice } from "../cli/permissions.ts";
import { taskFlags } from "./tasks.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";

const decoder = new TextDecoder();

/** Runs main.ts as `deno task` would (cwd: the repository, INIT_CWD: the user's folder). */
async function zpix(flags: string[], args: string[], userDir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "main.ts", ...args],
    cwd: SOURCE_ROOT,
    env: { INIT_CWD: userDir },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function withInputs(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "zpix-sandbox-" });
  try {
    await Deno.mkdir(join(dir, "in"));
    const fixtures = join(SOURCE_ROOT, "tests", "fixtures");
    await Deno.copyFile(join(fixtures, "quad_baseline.jpg"), join(dir, "in", "a.jpg"));
    await Deno.copyFile(join(fixtures, "quad.png"), join(dir, "in", "b.png"));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** What dropping a flag must do. */
type Need =
  | { fails: RegExp } // exit code 2 or 3, one clear line matching
  | { noCpuSamples: true }; // the run works; the report has no CPU chart data

function needOf(flag: string): Need {
  const name = flag.split("=")[0];
  if (name === "--allow-sys") return { noCpuSamples: true };
  // Without INIT_CWD the relative --input is taken from the repository, where there is no "in".
  if (name === "--allow-env") return { fails: /--input .*in/ };
  return { fails: new RegExp(name) };
}

/** Runs a job with the task's flags, then once without each flag. */
async function checkTask(task: "sequential" | "parallel", extra: string[]): Promise<void> {
  const flags = taskFlags(task);
  const job = [task, "-i", "in", "-o", "out", "--report", "run.json", "-q", ...extra];
  await withInputs(async (dir) => {
    const full = await zpix(flags, job, dir);
    assert.equal(full.code, 0, full.stderr);
    assert.equal([...Deno.readDirSync(join(dir, "out"))].length, 2);
    const report = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
    assert.ok(report.cpu.length > 0, "no CPU samples under the task's flags");

    for (const flag of flags) {
      await Deno.remove(join(dir, "out"), { recursive: true }).catch(() => {});
      await Deno.remove(join(dir, "run.json")).catch(() => {});
      const without = await zpix(flags.filter((f) => f !== flag), job, dir);
      const need = needOf(flag);
      const context = `${task} without ${flag}: ${without.stderr}`;
      if ("fails" in need) {
        assert.ok(without.code === 2 || without.code === 3, context);
        assert.match(without.stderr, need.fails, context);
        assert.match(without.stderr, /^zpix: error: /m, context);
        assert.doesNotMatch(without.stderr, /^\s+at /m, `a stack trace: ${context}`);
        assert.ok(without.stderr.trim().split("\n").length <= 2, context);
      } else {
        assert.equal(without.code, 0, context);
        const report = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
        assert.equal(report.cpu.length, 0, context);
      }
    }
  });
}

Deno.test({
  name: "deno task sequential: runs with exactly its flags, and each one is needed",
  sanitizeResources: false,
  fn: () => checkTask("sequential", []),
});

Deno.test({
  name: "deno task parallel: runs with exactly its flags, and each one is needed",
  sanitizeResources: false,
  fn: () => checkTask("parallel", ["--workers", "1"]),
});

Deno.test("demo and serve take parallel's flags (serve adds ZPIX_TOKEN); the compile task grants them", () => {
  const parallel = taskFlags("parallel");
  assert.deepEqual(taskFlags("demo"), parallel);
  assert.deepEqual(
    taskFlags("serve"),
    parallel.map((f) => f === "--allow-env=INIT_CWD" ? "--allow-env=ZPIX_TOKEN,INIT_CWD" : f),
  );
  const compiled = taskFlags("compile");
  for (const flag of [...taskFlags("serve"), ...taskFlags("worker")]) {
    const name = flag.split("=")[0];
    assert.ok(
      compiled.some((c) => c === name || c.split("=")[0] === name),
      `compile lacks ${name}`,
    );
  }
});

Deno.test("deno task demo: finishes under its flags and says where the outputs and the page are", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-demo-" });
  try {
    const out = await zpix(taskFlags("demo"), ["demo", "--output", "d", "--quiet"], dir);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split("\n");
    assert.match(lines.at(-2) ?? "", new RegExp(`^outputs: ${join(dir, "d", "output")}$`));
    assert.match(lines.at(-1) ?? "", new RegExp(`^report: +${join(dir, "d", "report.html")}`));
    const page = await Deno.readTextFile(join(dir, "d", "report.html"));
    assert.match(page, /<g class="worker-row"/);
    assert.equal([...Deno.readDirSync(join(dir, "d", "output"))].length, 24);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("permissionAdvice names the flag (and the path) for write, ffi, run, env", () => {
  const advice = (message: string) => permissionAdvice(new Deno.errors.NotCapable(message));
  assert.match(
    advice('Requires write access to "/data/out", run again with the --allow-write flag'),
    /needs write access to \/data\/out; run it with --allow-write=\/data\/out/,
  );
  assert.match(
    advice('Requires ffi access to "/repo/node_modules"'),
    /run it with --allow-ffi=\/repo\/node_modules/,
  );
  assert.match(advice('Requires run access to "/usr/bin/deno"'), /--allow-run=\/usr\/bin\/deno/);
  assert.match(advice('Requires env access to "ZPIX_TOKEN"'), /--allow-env=ZPIX_TOKEN/);
  assert.match(advice("Requires ffi access"), /run it with --allow-ffi \(/);
});

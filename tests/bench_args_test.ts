import assert from "node:assert/strict";
import { join } from "node:path";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { usageOf } from "./bench_args.ts";

/** Runs a benchmark script with `args` (only reading: every script parses its flags first). */
async function runBench(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", join(SOURCE_ROOT, "tests", script), ...args],
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("bench scripts: --help prints the script's doc comment and exits 0", async () => {
  for (
    const script of [
      "bench.ts",
      "kernel_bench.ts",
      "large_bench.ts",
      "scale_bench.ts",
      "formats_bench.ts",
    ]
  ) {
    const usage = usageOf(new URL(script, import.meta.url).href);
    assert.match(usage, /deno (task|run)/, `${script}'s doc comment has its command line`);
    const run = await runBench(script, ["--help"]);
    assert.equal(run.code, 0, `${script}: ${run.stderr}`);
    assert.equal(run.stdout.trim(), usage, script);
  }
});

Deno.test("bench scripts: an unknown flag or a missing value exits 2 with the problem and the usage, no stack trace", async () => {
  for (
    const [script, args, problem] of [
      ["kernel_bench.ts", ["--bogus"], /Unknown option '--bogus'/],
      ["large_bench.ts", ["--repeat"], /'--repeat <value>' argument missing/],
      ["bench.ts", ["--count"], /'--count <value>' argument missing/],
    ] as const
  ) {
    const run = await runBench(script, [...args]);
    assert.equal(run.code, 2, `${script} ${args}: ${run.stderr}`);
    assert.match(run.stderr, problem);
    assert.ok(
      run.stderr.includes(usageOf(new URL(script, import.meta.url).href)),
      "the usage follows",
    );
    assert.doesNotMatch(run.stderr, /Uncaught|^ {4}at /m);
  }
});

Deno.test("bench scripts: every tests/*_bench.ts parses its flags with benchArgs (so --help works)", () => {
  const dir = join(SOURCE_ROOT, "tests");
  const scripts = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.endsWith("_bench.ts")
  );
  assert.ok(scripts.length >= 10, `${scripts.length} bench scripts`);
  const without = scripts.filter((name) =>
    !/\bbenchArgs\(/.test(Deno.readTextFileSync(join(dir, name)))
  );
  assert.deepEqual(without, []);
});

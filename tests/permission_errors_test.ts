/**
 * Each permission a run needs, removed in turn: zpix says so in one line that
 * names the flag and the real path (never a temporary file's), exits 3, and
 * writes nothing. Real `deno run` processes with narrowed flags.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { writeSamples } from "../cli/demo.ts";
import { spawnZpix, withTempDir } from "./helpers.ts";

const MODULES = join(SOURCE_ROOT, "node_modules");

Deno.test("each missing permission: one line naming the flag and the real path, exit 3, nothing written", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    const output = join(dir, "out");
    const reports = join(dir, "reports");
    await writeSamples(input, 2);
    await Deno.mkdir(reports);
    const base = ["--allow-env=INIT_CWD", "--allow-sys=cpus"];
    const ffi = `--allow-ffi=${MODULES}`;
    const run = `--allow-run=${Deno.execPath()}`;
    const cases: { name: string; mode: string; flags: string[]; flag: string }[] = [
      {
        name: "read of --input",
        mode: "sequential",
        flags: [`--allow-read=${MODULES},${output},${reports}`, "--allow-write"],
        flag: `--allow-read=${input}`,
      },
      {
        name: "read of --output",
        mode: "sequential",
        flags: [`--allow-read=${MODULES},${input},${reports}`, "--allow-write"],
        flag: `--allow-read=${output}`,
      },
      {
        name: "write of --output",
        mode: "sequential",
        flags: ["--allow-read", `--allow-write=${reports}`],
        flag: `--allow-write=${output}`,
      },
      {
        name: "write of the --report folder",
        mode: "sequential",
        flags: ["--allow-read", `--allow-write=${output}`],
        flag: `--allow-write=${reports}`,
      },
      {
        name: "read of the --report folder",
        mode: "sequential",
        flags: [`--allow-read=${MODULES},${input},${output}`, "--allow-write"],
        flag: `--allow-read=${reports}`,
      },
      {
        name: "ffi for ZeroMQ",
        mode: "parallel",
        flags: ["--allow-read", "--allow-write", run],
        flag: `--allow-ffi=${MODULES}`,
      },
      {
        name: "run for the workers",
        mode: "parallel",
        flags: ["--allow-read", "--allow-write", ffi],
        flag: `--allow-run=`,
      },
    ];
    for (const { name, mode, flags, flag } of cases) {
      const result = await spawnZpix(
        [
          mode,
          "-i",
          input,
          "-o",
          output,
          "--report",
          join(reports, "run.json"),
          ...(mode === "parallel" ? ["-w", "1"] : []),
        ],
        { flags: [...flags, ...base] },
      ).output;
      assert.equal(result.code, 3, `${name}: ${result.stderr}`);
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${name}: one line, got ${result.stderr}`);
      assert.match(lines[0], /^zpix: error: missing permission: /, name);
      assert.ok(lines[0].includes(flag), `${name}: names ${flag}: ${lines[0]}`);
      assert.doesNotMatch(lines[0], /zpix-tmp/, `${name}: no temporary name`);
      assert.deepEqual(
        await Array.fromAsync(Deno.readDir(reports)),
        [],
        `${name}: no report written`,
      );
      const outputs = await Array.fromAsync(Deno.readDir(output)).catch(() => []);
      assert.deepEqual(outputs, [], `${name}: no output written`);
    }
  });
});

/**
 * Getting a `zpix` command: `bin/zpix` linked onto PATH and run from any
 * folder, and the old program's names as `deno task` names. Real processes,
 * run from an unrelated folder with relative paths.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { writeSamples } from "../cli/demo.ts";
import { withTempDir } from "./helpers.ts";
import { remoteWorkerReads } from "../worker/processes.ts";

const decoder = new TextDecoder();

async function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...Deno.env.toObject() };
  delete env.INIT_CWD; // as in a fresh shell
  const out = await new Deno.Command(command, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
}

Deno.test("bin/zpix linked onto PATH runs from any folder, relative paths taken from there", async () => {
  await withTempDir(async (dir) => {
    const bin = join(dir, "bin");
    const work = join(dir, "work");
    await Deno.mkdir(bin);
    await Deno.symlink(join(SOURCE_ROOT, "bin", "zpix"), join(bin, "zpix"));
    const count = await writeSamples(join(work, "in"), 4);
    const parallel = await run(join(bin, "zpix"), [
      "parallel",
      "-i",
      "in",
      "-o",
      "out",
      "--size",
      "32",
      "32",
      "-w",
      "2",
    ], work);
    assert.equal(parallel.code, 0, parallel.stderr);
    assert.match(parallel.stdout, new RegExp(`server has processed ${count}/${count} images`));
    assert.deepEqual(await names(join(work, "out")), await names(join(work, "in")));
    // A remote worker started by bin/zpix may read what `deno task worker` grants, no more.
    const script = await Deno.readTextFile(join(SOURCE_ROOT, "bin", "zpix"));
    const reads = /^\s*read="(\$root\/node_modules[^"]*)"$/m.exec(script)?.[1];
    assert.equal(reads?.replaceAll("$root", SOURCE_ROOT), remoteWorkerReads().join(","));
    const help = await run(join(bin, "zpix"), ["worker", "--help"], work);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /zpix worker/);
  });
});

Deno.test("the old program's names are deno tasks too: parallel-processing and sequential-processing", async () => {
  await withTempDir(async (dir) => {
    await writeSamples(join(dir, "in"), 3);
    for (const [task, out] of [["parallel-processing", "p"], ["sequential-processing", "s"]]) {
      const result = await run(Deno.execPath(), [
        "task",
        "--quiet",
        `--config=${join(SOURCE_ROOT, "deno.json")}`,
        task,
        "--path2initial_images",
        "in",
        "--path2resized_images",
        out,
        "--size",
        "16",
        "16",
        ...(task === "parallel-processing" ? ["--nb_workers", "1"] : []),
      ], dir);
      assert.equal(result.code, 0, `${task}: ${result.stderr}`);
      assert.match(result.stdout, /server has processed 3\/3 images/, task);
      assert.deepEqual(await names(join(dir, out)), await names(join(dir, "in")), task);
    }
  });
});

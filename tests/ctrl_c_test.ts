/**
 * Ctrl-C under `deno task`: the terminal sends SIGINT to the whole job (the
 * `deno task` process and zpix), and `deno task` forwards its own copy to
 * zpix, so zpix gets the signal twice within about a millisecond. That echo
 * must not count as a second Ctrl-C (which exits at once, without the
 * report): each run here must end like one Ctrl-C under `deno run`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { spawnZpix } from "./helpers.ts";
import {
  allExist,
  noProcessesLeft,
  processesWith,
  readReport,
  temporaries,
  waitUntil,
  withRunDir,
  writeImages,
} from "./reliability_helpers.ts";

const NAMES = Array.from({ length: 12 }, (_, i) => `img${String(i).padStart(2, "0")}.jpg`);

/** The ipc folder a run's workers connect to, read from their command lines. */
function ipcFolderOf(input: string): string | null {
  const out = new Deno.Command("ps", { args: ["-eo", "args="], stdout: "piped" }).outputSync();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    if (!line.includes(input)) continue;
    const match = /--connect ipc:\/\/(\S+)\/tasks/.exec(line);
    if (match) return match[1];
  }
  return null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("Ctrl-C under `deno task parallel` (the signal twice, from the terminal and from deno task): exit 130, closing line, report marked interrupted, no ipc folder left", async () => {
  // Three runs in a row: before the fix, the echo ended 1 run in 3 to 7 in 9 at once.
  for (let round = 0; round < 3; round++) {
    await withRunDir(async (dir) => {
      const input = join(dir, "in");
      const out = join(dir, "out");
      await writeImages(input, NAMES, 96, 64);
      // A slow pipeline (MozJPEG on a large output) so the run is surely mid-way at the signal.
      const task = new Deno.Command("setsid", {
        args: [
          Deno.execPath(),
          "task",
          "--quiet",
          `--config=${join(SOURCE_ROOT, "deno.json")}`,
          "parallel",
          "--input",
          input,
          "--output",
          out,
          "--workers",
          "2",
          "--op",
          "resize=1800x1800",
          "--encoder",
          "mozjpeg",
          "--report",
          join(dir, "report.json"),
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = task.output();
      try {
        await waitUntil(() => allExist(out, NAMES.slice(0, 1)), 60_000, "a first output");
        const ipc = ipcFolderOf(input);
        assert.ok(ipc, "the workers connect over a private ipc folder");
        // What a terminal does on Ctrl-C: SIGINT to every process of the job.
        Deno.kill(-task.pid, "SIGINT");
        const result = await output;
        const stderr = new TextDecoder().decode(result.stderr);
        assert.equal(result.code, 130, stderr);
        assert.match(stderr, /SIGINT: stopping/);
        const stdout = new TextDecoder().decode(result.stdout);
        assert.match(
          stdout,
          /server has processed \d+\/12 images in /,
          `the closing line: ${stdout}`,
        );
        assert.match(stdout, /interrupted with \d+ not done: run it again with --skip-existing/);
        const report = await readReport(join(dir, "report.json"));
        assert.equal(report.interrupted, true);
        assert.ok(report.processed >= 1 && report.processed < NAMES.length, `${report.processed}`);
        assert.deepEqual(await temporaries(out), []);
        assert.equal(await exists(ipc), false, `ipc folder ${ipc} removed`);
        await noProcessesLeft(input);
      } finally {
        for (const pid of processesWith(input)) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch {
            // gone already
          }
        }
        await output.catch(() => {});
      }
    });
  }
});

Deno.test("Ctrl-C during a sequential run (its outputs written behind the next images' work): exit 130, every written output whole and in the report, none partial", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    const out = join(dir, "out");
    const names = Array.from({ length: 60 }, (_, i) => `img${String(i).padStart(2, "0")}.jpg`);
    await writeImages(input, names, 96, 64);
    // Large outputs from the fast encoder: several files are being written at the signal.
    const run = spawnZpix([
      "sequential",
      "--input",
      input,
      "--output",
      out,
      "--op",
      "resize=1600x1600",
      "--report",
      join(dir, "report.json"),
    ]);
    try {
      await waitUntil(() => allExist(out, names.slice(0, 3)), 60_000, "a few outputs");
      Deno.kill(run.pid, "SIGINT");
      const result = await run.output;
      assert.equal(result.code, 130, result.stderr);
      const report = await readReport(join(dir, "report.json"));
      assert.equal(report.interrupted, true);
      assert.ok(report.processed >= 3 && report.processed < names.length, `${report.processed}`);
      assert.deepEqual(await temporaries(out), []);
      const written = [...Deno.readDirSync(out)].map((entry) => entry.name);
      // Every write started was awaited and recorded: no output the report does not count.
      assert.equal(written.length, report.processed);
      for (const name of written) {
        const bytes = await Deno.readFile(join(out, name));
        assert.deepEqual([...bytes.subarray(-2)], [0xff, 0xd9], `${name} ends with EOI`);
      }
    } finally {
      try {
        Deno.kill(run.pid, "SIGKILL");
      } catch {
        // gone already
      }
      await run.output.catch(() => {});
    }
  });
});

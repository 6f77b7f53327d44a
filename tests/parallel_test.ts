/**
 * End-to-end tests of parallel mode with real processes: the server runs as
 * a `deno run main.ts parallel` subprocess with the permissions of
 * `deno task parallel`; workers are its real sandboxed subprocesses; inputs
 * are synthetic JPEGs and PNGs written to temporary folders.
 *
 * - parallel outputs are byte-identical to sequential ones (several pipelines);
 * - a worker slowed down with SIGSTOP/SIGCONT receives fewer tasks;
 * - N worker processes start, and every one exits (nothing left, ipc folder gone);
 * - the report has per-worker lines; progress lines on a non-terminal; --quiet is silent;
 * - workers that cannot start end the run with exit code 3 and one clear line;
 * - a real worker's sandbox refuses reads and writes outside its folders;
 * - a quit broadcast stops an idle worker; a silent server makes it exit on its own.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeSamples } from "../cli/demo.ts";
import { workerCommandLine } from "../broker/pool.ts";
import { DEFAULT_JPEG_QUALITY } from "../ops/codec.ts";
import type { Pipeline } from "../core/job.ts";
import type { Report } from "../report/report.ts";
import {
  processTable,
  sleep,
  spawnZpix,
  TestServer,
  withTempDir,
  workerChildren,
  zpix,
} from "./helpers.ts";

/** Every file under `dir`, relative path → bytes. */
async function readTree(dir: string, prefix = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory) {
      for (const [k, v] of await readTree(dir, rel)) out.set(k, v);
    } else out.set(rel, await Deno.readFile(join(dir, rel)));
  }
  return out;
}

/** `parallel --input DIR/in --output DIR/out --workers N`. */
const parallelArgs = (dir: string, workers: number) => [
  "parallel",
  "--input",
  join(dir, "in"),
  "--output",
  join(dir, "out"),
  "--workers",
  String(workers),
];

const PIPELINES: string[][] = [
  ["--size", "512", "512"],
  ["--op", "resize=160x120:contain", "--op", "gray", "--op", "flip=h", "--format", "png"],
  [
    "--op",
    "resize=200x200:cover",
    "--op",
    "threshold=100",
    "--format",
    "jpeg",
    "--encoder",
    "mozjpeg",
    "--quality",
    "70",
  ],
];

Deno.test("parallel writes byte-identical outputs to sequential, for several pipelines", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 8);
    await Deno.mkdir(join(input, "sub"));
    await Deno.copyFile(join(input, "sample001.jpg"), join(input, "sub", "nested.jpg"));
    for (const [i, pipeline] of PIPELINES.entries()) {
      const seq = join(dir, `seq${i}`), par = join(dir, `par${i}`);
      const common = ["--input", input, "--recursive", "--quiet", ...pipeline];
      const a = await zpix(["sequential", ...common, "--output", seq]);
      assert.equal(a.code, 0, a.stderr);
      const expected = await readTree(seq);
      assert.equal(expected.size, 9, `pipeline ${pipeline.join(" ")}`);
      // The first pipeline also runs one task at a time (the default holds one ahead): same bytes.
      for (const extra of i === 0 ? [[], ["--prefetch", "0"]] : [[]]) {
        const out = `${par}${extra.length ? "-prefetch" : ""}`;
        const b = await zpix(["parallel", ...common, "--output", out, "--workers", "2", ...extra]);
        assert.equal(b.code, 0, b.stderr);
        const actual = await readTree(out);
        assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
        for (const [name, bytes] of expected) {
          const other = actual.get(name)!;
          assert.ok(
            bytes.length > 0 && other.length === bytes.length &&
              bytes.every((b, k) => other[k] === b),
            `${name} differs with ${[...pipeline, ...extra].join(" ")}`,
          );
        }
      }
    }
  });
});

Deno.test("a worker slowed down by SIGSTOP/SIGCONT receives fewer tasks", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 40);
    const report = join(dir, "report.json");
    const run = spawnZpix([...parallelArgs(dir, 2), "--report", report, "--quiet"]);
    // Find w1 as soon as it is spawned, then let it run 1 ms in 4 (stopped 60 ms, running 20 ms).
    let exited = false;
    const output = run.output.finally(() => exited = true);
    let slow: number | undefined;
    while (!exited && slow === undefined) {
      slow = (await workerChildren(run.pid)).get("w1")?.pid;
    }
    let cycles = 0;
    while (!exited && slow !== undefined) {
      try {
        Deno.kill(slow, "SIGSTOP");
        await sleep(60);
        Deno.kill(slow, "SIGCONT");
        cycles++;
      } catch {
        break; // it exited
      }
      await sleep(20);
    }
    if (slow !== undefined) {
      try {
        Deno.kill(slow, "SIGCONT");
      } catch {
        // gone
      }
    }
    const { code, stderr } = await output;
    assert.equal(code, 0, stderr);
    assert.ok(slow !== undefined, "w1 was seen");
    assert.ok(cycles > 0, "w1 was slowed at least once");
    const workers = (JSON.parse(await Deno.readTextFile(report)) as Report).workers;
    const count = (id: string) =>
      workers.filter((w) => w.id === id).reduce((sum, w) => sum + w.processed, 0);
    assert.equal(count("w1") + count("w2"), 40);
    assert.ok(
      count("w1") < count("w2"),
      `slow w1 processed ${count("w1")}, fast w2 ${count("w2")}`,
    );
  });
});

Deno.test("N worker processes start, and all exit with the ipc folder removed", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 12);
    const run = spawnZpix([...parallelArgs(dir, 3), "--quiet"]);
    let exited = false;
    const output = run.output.finally(() => exited = true);
    const seen = new Map<number, string[]>();
    while (!exited) {
      for (const proc of (await workerChildren(run.pid)).values()) seen.set(proc.pid, proc.args);
    }
    const { code, stderr } = await output;
    assert.equal(code, 0, stderr);
    assert.equal(seen.size, 3, `worker processes seen: ${[...seen.keys()]}`);
    const endpoints = new Set(
      [...seen.values()].map((args) => args[args.indexOf("--connect") + 1]),
    );
    assert.equal(endpoints.size, 1, "every worker connects to the one server");
    const [endpoint] = endpoints;
    assert.match(endpoint, /^ipc:\/\/.+\/tasks$/);
    const after = await processTable();
    assert.deepEqual(after.filter((p) => seen.has(p.pid)), [], "every worker exited");
    assert.deepEqual(
      after.filter((p) => p.args.some((arg) => arg.includes(endpoint))),
      [],
      "no process uses the run's endpoint",
    );
    const folder = endpoint.slice("ipc://".length, -"/tasks".length);
    await assert.rejects(Deno.stat(folder), Deno.errors.NotFound, `${folder} was removed`);
  });
});

Deno.test("report lists each worker; progress lines without a terminal; --quiet is silent", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 8);
    const report = join(dir, "r.json");
    const args = parallelArgs(dir, 2);
    const loud = await zpix([...args, "--report", report]);
    assert.equal(loud.code, 0, loud.stderr);
    // stderr is a pipe: no bar, plain lines, ending with the final count.
    assert.ok(!loud.stderr.includes("\r") && !loud.stderr.includes("\x1b["), "no bar");
    assert.match(loud.stderr, /^zpix: 8\/8 100% [\d.]+ img\/s \d+s ETA 0s$/m);
    assert.match(loud.stdout, /8\/8/);
    const workers = (JSON.parse(await Deno.readTextFile(report)) as Report).workers;
    assert.deepEqual(workers.map((w) => w.id).sort(), ["w1", "w2"]);
    for (const w of workers) {
      assert.equal(typeof w.pid, "number");
      assert.equal(w.failed, 0);
      assert.ok(w.idleSeconds >= 0, JSON.stringify(w));
      // Busy time is the sum of its task spans (each rounded to 1 ms).
      const spanned = w.spans.reduce((sum, span) => sum + span.end - span.start, 0) / 1000;
      assert.ok(
        Math.abs(w.busySeconds - spanned) <= 0.001 * (w.spans.length + 1),
        `busy ${w.busySeconds} s, spans ${spanned} s`,
      );
      assert.equal(w.spans.length, w.processed);
    }
    assert.equal(workers.reduce((sum, w) => sum + w.processed, 0), 8);

    const quiet = await zpix([...args, "--quiet", "--output", join(dir, "out2")]);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, "");
  });
});

Deno.test("workers that cannot start end the run with exit code 3 and one clear line", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in");
    await writeSamples(input, 2);
    // A temp folder whose name has a newline: the server binds ipc:// there, but every
    // worker refuses that --connect address and exits before joining.
    const tmp = join(dir, "bad\ntmp");
    await Deno.mkdir(tmp);
    const started = performance.now();
    const run = await zpix(
      parallelArgs(dir, 2),
      { env: { TMPDIR: tmp } },
    );
    assert.equal(run.code, 3, run.stderr);
    assert.match(
      run.stderr,
      /zpix: error: worker w\d exited before joining \(worker process exited/,
    );
    assert.ok(performance.now() - started < 15_000, "no hang");
    assert.deepEqual([...Deno.readDirSync(tmp)], [], "private ipc folder removed");
  });
});

Deno.test("workers started before planning are stopped when the run cannot start", async () => {
  await withTempDir(async (dir) => {
    // Local workers start first (broker/pool.ts EarlyPool); planning then finds no image.
    await Deno.mkdir(join(dir, "in"));
    await Deno.writeTextFile(join(dir, "in", "notes.txt"), "no images here");
    const tmp = join(dir, "tmp");
    await Deno.mkdir(tmp);
    const run = await zpix(parallelArgs(dir, 2), { env: { TMPDIR: tmp } });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /zpix: error: no image in .* matches/);
    assert.deepEqual([...Deno.readDirSync(tmp)], [], "private ipc folder removed");
    const left = (await processTable()).filter((p) => p.args.some((arg) => arg.includes(tmp)));
    assert.deepEqual(left, [], "no worker left running");
  });
});

const PIPELINE: Pipeline = {
  steps: [{ op: "resize", width: 64, height: 48, fit: "fill" }],
  format: "same",
  quality: DEFAULT_JPEG_QUALITY,
  encoder: "fast",
  maxPixels: 1_000_000,
};

/** Starts a real local worker with exactly the server's command line, against `server`. */
function startWorker(
  folders: { input: string; output: string },
  server: TestServer,
  id = "w1",
  extra: string[] = [],
) {
  const { command, args } = workerCommandLine(folders, server.endpoint, id);
  const child = new Deno.Command(command, {
    args: [...args, ...extra],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return { child, args, output: child.output() };
}

Deno.test("a worker's sandbox: no -A, scoped flags, no reads or writes outside its folders", async () => {
  await withTempDir(async (dir) => {
    const folders = { input: join(dir, "in"), output: join(dir, "out") };
    await writeSamples(folders.input, 1);
    await writeSamples(join(dir, "elsewhere"), 1);
    await Deno.mkdir(folders.output);
    const server = await TestServer.open(dir);
    const worker = startWorker(folders, server);
    try {
      const allow = worker.args.filter((arg) => arg.startsWith("--allow") || arg === "-A");
      assert.deepEqual(allow.map((arg) => arg.split("=")[0]).sort(), [
        "--allow-ffi",
        "--allow-read",
        "--allow-write",
      ]);
      assert.ok(allow.every((arg) => arg.includes("=")), "every grant is scoped");
      assert.ok(!worker.args.includes("-A") && !worker.args.includes("--allow-all"));
      assert.ok(allow.includes(`--allow-write=${folders.output}`));

      const join_ = await server.expect("join");
      assert.equal(join_.id, "w1");
      assert.equal(join_.message.local, true);
      await server.send("w1", { type: "hello", worker: "w1", pipeline: PIPELINE });
      await server.expect("ready");

      const tasks = [
        { input: join(folders.input, "sample001.jpg"), output: join(dir, "escaped.jpg") },
        { input: join(dir, "elsewhere", "sample001.jpg"), output: join(folders.output, "x.jpg") },
        { input: join(folders.input, "sample001.jpg"), output: join(folders.output, "ok.jpg") },
      ];
      const results = [];
      for (const [task, paths] of tasks.entries()) {
        await server.send("w1", { type: "task", task, attempt: 1, name: "t", ...paths });
        // Once an output is encoded the worker asks for its next task, then writes it (or fails
        // to); a task that fails before (the unreadable input) asks with its result.
        const asks = task !== 1;
        if (asks) assert.equal((await server.expect("ready")).message.finishing, task);
        const result = (await server.expect("result")).message;
        assert.equal(result.more, !asks);
        results.push(result);
      }
      assert.equal(results[0].ok, false);
      assert.match(!results[0].ok ? results[0].error : "", /not allowed to write/);
      await assert.rejects(Deno.stat(join(dir, "escaped.jpg")), Deno.errors.NotFound);
      assert.equal(results[1].ok, false);
      assert.match(!results[1].ok ? results[1].error : "", /not allowed to read/);
      await assert.rejects(Deno.stat(join(folders.output, "x.jpg")), Deno.errors.NotFound);
      // The same worker still does allowed work.
      assert.equal(results[2].ok, true, JSON.stringify(results[2]));
      assert.ok((await Deno.stat(join(folders.output, "ok.jpg"))).size > 0);

      const quit = async () => {
        for (let i = 0; i < 100; i++) {
          await server.broadcast({ type: "quit" });
          await sleep(50);
        }
      };
      void quit();
      const status = await worker.output;
      assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
    } finally {
      try {
        worker.child.kill("SIGKILL");
      } catch {
        // exited
      }
      await worker.output;
      server.close();
    }
  });
});

Deno.test("quit broadcast stops an idle worker; a silent server makes workers exit", async () => {
  await withTempDir(async (dir) => {
    const folders = { input: join(dir, "in"), output: join(dir, "out") };
    await Deno.mkdir(folders.input);
    const server = await TestServer.open(dir);
    try {
      // An idle worker (joined, said ready, never given a task) hears quit and exits 0.
      const idle = startWorker(folders, server);
      await server.expect("join");
      await server.send("w1", { type: "hello", worker: "w1", pipeline: PIPELINE });
      await server.expect("ready");
      let exited = false;
      const done = idle.output.finally(() => exited = true);
      const quitAt = performance.now();
      while (!exited && performance.now() - quitAt < 10_000) {
        await server.broadcast({ type: "quit" });
        await sleep(50);
      }
      const status = await done;
      // Exit 0, not 4 ("no word from the server", after its 5 s --server-timeout): it heard quit.
      assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
      assert.doesNotMatch(new TextDecoder().decode(status.stderr), /no word from the server/);

      // A worker whose server says nothing (no heartbeat, no hello) gives up by itself.
      const lonely = startWorker(folders, server, "w2", ["--server-timeout", "1"]);
      await server.expect("join");
      const silent = await lonely.output;
      assert.equal(silent.code, 4);
      assert.match(new TextDecoder().decode(silent.stderr), /no word from the server/);
    } finally {
      server.close();
    }
  });
});

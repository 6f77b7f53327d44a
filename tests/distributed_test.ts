/**
 * `zpix serve` with workers that connect over TCP (127.0.0.1 only, on a
 * free port chosen per test): real server and worker processes, real
 * files. Where a test needs a worker to misbehave at an exact moment, the
 * test itself plays that worker over a real DEALER socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type TaskMessage } from "../transport/protocol.ts";
import { writeSamples } from "../cli/demo.ts";
import type { Report } from "../report/report.ts";
import {
  FakeWorker,
  fitPipeline,
  freeEndpoint,
  SERVE_FLAGS,
  sleep,
  spawnZpix,
  TestServer,
  withTempDir,
  WORKER_FLAGS,
  type ZpixOutput,
  type ZpixProcess,
} from "./helpers.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { EXIT } from "../core/errors.ts";
import { sniffFormat, type WritableFormat } from "../ops/formats.ts";

/** `zpix serve` on `endpoint` with no local worker, a JSON report and verbose JSON logs. */
function serve(endpoint: string, dir: string, extra: string[] = []): ZpixProcess {
  return spawnZpix([
    "serve",
    "--bind",
    endpoint,
    "--workers",
    "0",
    "-i",
    join(dir, "in"),
    "-o",
    join(dir, "out"),
    "--report",
    join(dir, "report.json"),
    "--verbose",
    "--log-format",
    "json",
    ...extra,
  ], { flags: SERVE_FLAGS });
}

/** `zpix worker --connect endpoint` with the sandbox of `deno task worker`. */
function worker(
  endpoint: string,
  extra: string[] = [],
  env?: Record<string, string>,
): ZpixProcess {
  return spawnZpix(["worker", "--connect", endpoint, ...extra], { flags: WORKER_FLAGS, env });
}

/** Waits for a process, killing it if it runs past `ms`. */
async function finished(process: ZpixProcess, ms = 60_000): Promise<ZpixOutput> {
  const timer = setTimeout(() => {
    try {
      process.child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, ms);
  try {
    return await process.output;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills processes still running (test clean-up). */
async function killAll(processes: ZpixProcess[]): Promise<void> {
  for (const process of processes) {
    try {
      process.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  await Promise.all(processes.map((p) => p.output.catch(() => {})));
}

/** A serve run under test: its folder, inputs, endpoint and server process. */
interface Bench {
  dir: string;
  names: string[];
  endpoint: string;
  server: ZpixProcess;
  /** Starts a worker for this server; it is killed (if still running) at the end. */
  worker(extra?: string[], env?: Record<string, string>): ZpixProcess;
}

/**
 * Runs `fn` with `count` sample inputs in a temporary folder and `zpix serve`
 * on a free port; kills every process still running at the end.
 */
async function withServe(
  count: number,
  serveArgs: string[],
  fn: (bench: Bench) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const names = await inputs(dir, count);
    const endpoint = freeEndpoint();
    const server = serve(endpoint, dir, serveArgs);
    const processes = [server];
    const start = (extra: string[] = [], env?: Record<string, string>) => {
      const process = worker(endpoint, extra, env);
      processes.push(process);
      return process;
    };
    try {
      await fn({ dir, names, endpoint, server, worker: start });
    } finally {
      await killAll(processes);
    }
  });
}

async function readReport(dir: string): Promise<Report> {
  return JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
}

/** Names in a folder, sorted ([] while it does not exist). */
async function files(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Writes `count` sample images to DIR/in. */
async function inputs(dir: string, count: number): Promise<string[]> {
  await writeSamples(join(dir, "in"), count);
  // A PNG named .jpg: with format `same` its output must be a JPEG, as in sequential mode.
  if (count >= 4) {
    await Deno.rename(join(dir, "in", "sample004.png"), join(dir, "in", "sample004-png.jpg"));
  }
  return await files(join(dir, "in"));
}

/** Asserts DIR/out holds exactly the bytes `zpix sequential` writes for DIR/in. */
async function assertSameAsSequential(dir: string): Promise<void> {
  const reference = join(dir, "sequential");
  const run = await spawnZpix(["sequential", "-i", join(dir, "in"), "-o", reference, "-q"]).output;
  assert.equal(run.code, 0, run.stderr);
  const names = await files(reference);
  assert.deepEqual(await files(join(dir, "out")), names);
  for (const name of names) {
    const expected = await Deno.readFile(join(reference, name));
    const actual = await Deno.readFile(join(dir, "out", name));
    assert.ok(expected.length > 0);
    assert.deepEqual(actual, expected, `${name} differs from sequential mode's`);
  }
}

/** Polls until `check` holds, or fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
    await sleep(25);
  }
}

/** JSON log lines of a zpix process's stderr. */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

for (const batch of ["1", "4"]) {
  Deno.test(`serve + two remote workers (--batch ${batch}) over 127.0.0.1: outputs byte-identical to sequential mode`, async () => {
    // --batch 4: each grant's images are handed to the image thread together (worker.ts doBatch).
    await withServe(8, [], async ({ dir, names, server, worker }) => {
      // Four tasks each at most, so both take part: on a loaded machine the first to start
      // could otherwise do all eight before the second has joined.
      const flags = ["--batch", batch, "--max-tasks", "4"];
      const workers = [worker(flags), worker(flags)];
      const result = await finished(server);
      assert.equal(result.code, 0, result.stderr);
      for (const w of workers) {
        const out = await finished(w, 15_000);
        assert.equal(out.code, 0, `a worker exits 0 when the run ends: ${out.stderr}`);
      }
      const report = await readReport(dir);
      assert.equal(report.processed, names.length);
      assert.equal(report.workers.length, 2);
      // Remote workers: they hold no permission on either folder, so they can only have
      // worked from the bytes the server sent, and the server wrote every file.
      assert.ok(report.workers.every((w) => w.host !== "local"));
      assert.equal(report.workers.reduce((sum, w) => sum + w.processed, 0), names.length);
      await assertSameAsSequential(dir);
    });
  });
}

Deno.test("a worker that leaves after its tasks, then a late-joining worker, finish the run", async () => {
  await withServe(6, [], async ({ dir, names, server, worker }) => {
    const first = worker(["--max-tasks", "2"]);
    const out = await finished(first, 30_000);
    assert.equal(out.code, 0, out.stderr);
    // The run is not over: the server still waits for workers.
    await sleep(300);
    assert.equal((await files(join(dir, "out"))).length, 2);
    const late = worker(["--processes", "2"]);
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await finished(late, 15_000)).code, 0);
    const report = await readReport(dir);
    assert.equal(report.processed, names.length);
    const early = report.workers.find((w) => w.pid === first.pid)!;
    assert.equal(early.processed, 2);
    const lateOnes = report.workers.filter((w) => w.pid !== first.pid);
    assert.equal(lateOnes.reduce((sum, w) => sum + w.processed, 0), names.length - 2);
    assert.deepEqual(await files(join(dir, "out")), names);
  });
});

Deno.test("a remote worker that dies holding a task loses nothing; the loss is seen in seconds", async () => {
  await withServe(4, [], async ({ dir, names, endpoint, server, worker }) => {
    const fake = new FakeWorker(endpoint, "doomed");
    try {
      await fake.join();
      const { message, payload } = await fake.next();
      assert.equal(message.type, "task");
      assert.equal((message as TaskMessage).input, null, "a remote worker is given no path");
      assert.ok(payload && payload.length > 0, "the task carries the image bytes");
    } finally {
      fake.close();
    }
    await sleep(500);
    worker();
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    const report = await readReport(dir);
    assert.equal(report.processed, names.length);
    assert.deepEqual(report.failed, []);
    const doomed = report.workers.find((w) => w.id === "doomed")!;
    assert.equal(doomed.processed, 0);
    const [span] = doomed.spans;
    assert.equal(span.ok, null, "its task was taken back");
    const silence = span.end - span.start;
    assert.ok(silence >= 2000 && silence < 6000, `lost after ${silence} ms of silence`);
    assert.match(result.stderr, /doomed lost \(worker silent/);
    await assertSameAsSequential(dir);
  });
});

Deno.test("a remote worker process killed mid-run loses nothing", async () => {
  await withServe(10, [], async ({ dir, names, server, worker }) => {
    const victim = worker();
    await until(async () => (await files(join(dir, "out"))).length > 0, 30_000, "a first output");
    victim.child.kill("SIGKILL");
    worker();
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await readReport(dir)).processed, names.length);
    assert.deepEqual(await files(join(dir, "out")), names);
  });
});

Deno.test("a worker with a wrong or missing token is refused, says why, exits 2, gets no task", async () => {
  await withServe(3, ["--token", "right-token"], async ({ dir, names, server, worker }) => {
    for (const args of [["--token", "wrong-token"], []]) {
      const out = await finished(worker(args), 30_000);
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stderr, /refused this worker: wrong or missing token/);
    }
    assert.deepEqual(await files(join(dir, "out")), []);
    // The token may come from the environment.
    const good = worker([], { ZPIX_TOKEN: "right-token" });
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /refused worker .* wrong or missing token/);
    const report = await readReport(dir);
    assert.equal(report.processed, names.length);
    assert.equal(report.workers.length, 1, "refused workers never joined");
    assert.equal(report.workers[0].pid, good.pid);
    assert.ok(!JSON.stringify(report).includes("right-token"), "the report hides the token");
  });
});

Deno.test("payload window: more remote workers than the window never hold more payloads than it", async () => {
  await withServe(8, ["--payload-window", "2"], async ({ dir, names, endpoint, server }) => {
    const fakes = ["a", "b", "c", "d"].map((id) => new FakeWorker(endpoint, id));
    let holding = 0;
    let peak = 0;
    let answered = 0;
    try {
      await Promise.all(fakes.map((f) => f.join()));
      // Each fake worker answers its task 100 ms later with some bytes (the server writes them).
      await Promise.all(fakes.map(async (fake) => {
        while (answered < names.length) {
          let next;
          try {
            next = await fake.next(1000);
          } catch {
            continue; // nothing for this worker yet: the window is full
          }
          if (next.message.type !== "task") continue;
          holding++;
          peak = Math.max(peak, holding);
          await sleep(100);
          holding--;
          answered++;
          const bytes = next.payload!;
          // what the bytes are: the server checks (a PNG among the samples)
          await fake.succeed(next.message, bytes, (sniffFormat(bytes) ?? "jpeg") as WritableFormat);
        }
      }));
    } finally {
      for (const fake of fakes) fake.close();
    }
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(peak, 2, "the window is used, and never exceeded");
    const counter = logLines(result.stderr).find((l) => "payloadsPeak" in l);
    assert.ok(counter, "the verbose log reports the payload peak");
    assert.equal(counter.payloadsPeak, 2);
    assert.equal(counter.payloadWindow, 2);
    assert.equal((await readReport(dir)).processed, names.length);
  });
});

Deno.test("a remote worker asking ahead: its next task comes while it works; if it dies, that task uses no attempt", async () => {
  // --max-attempts 1: the task it worked on is failed with it; the one it was sent ahead goes back
  // to the queue as never started, and the real worker that comes next does it.
  await withServe(4, ["--max-attempts", "1"], async ({ dir, names, endpoint, server, worker }) => {
    const fake = new FakeWorker(endpoint, "doomed");
    let first, second;
    try {
      await fake.join();
      first = await fake.task();
      await fake.send({ type: "ready", finishing: first.task });
      second = await fake.task();
      assert.notEqual(second.task, first.task);
      // Asking ahead once more, still on the same task, gets nothing more.
      await fake.send({ type: "ready", finishing: first.task });
      await assert.rejects(fake.next(500));
    } finally {
      fake.close();
    }
    worker();
    const result = await finished(server);
    assert.equal(result.code, EXIT.someFailed);
    const report = await readReport(dir);
    assert.deepEqual(report.failed.map((f) => f.path), [first.name]);
    assert.equal(report.processed, names.length - 1);
    assert.deepEqual(await files(join(dir, "out")), names.filter((n) => n !== first.name));
  });
});

Deno.test("real remote workers asking ahead stay within a payload window of 3 and lose nothing when one is killed", async () => {
  await withServe(12, ["--payload-window", "3"], async ({ dir, names, server, worker }) => {
    const victim = worker();
    worker();
    await until(async () => (await files(join(dir, "out"))).length > 2, 30_000, "three outputs");
    victim.child.kill("SIGKILL");
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    const counter = logLines(result.stderr).find((l) => "payloadsPeak" in l)!;
    assert.ok(Number(counter.payloadsPeak) <= 3, `peak ${counter.payloadsPeak}`);
    assert.equal((await readReport(dir)).processed, names.length);
    await assertSameAsSequential(dir);
  });
});

Deno.test("payload window as a size: batching remote workers hold at most its bytes; an image larger than it goes out alone", async () => {
  const window = 200 * 1024; // the samples: JPEGs of 29-59 KB, PNGs of 310-670 KB
  await withServe(12, ["--payload-window", "200KiB"], async ({ dir, names, server, worker }) => {
    worker(["--batch", "8"]);
    worker(["--batch", "8"]);
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    let largest = 0;
    for (const name of names) {
      largest = Math.max(largest, (await Deno.stat(join(dir, "in", name))).size);
    }
    assert.ok(largest > window, "one sample is larger than the window");
    const counter = logLines(result.stderr).find((l) => "payloadBytesPeak" in l)!;
    assert.equal(counter.payloadWindowBytes, window);
    assert.equal(counter.payloadWindow, null, "a size: no count");
    assert.ok(Number(counter.payloadBytesPeak) <= largest, `peak ${counter.payloadBytesPeak} B`);
    assert.ok(Number(counter.payloadsPeak) >= 2, "small images go out several at once");
    assert.equal((await readReport(dir)).processed, names.length);
    await assertSameAsSequential(dir);
  });
});

Deno.test("a --persist worker serves two runs in a row, then leaves on SIGTERM with exit 0", async () => {
  await withTempDir(async (dir) => {
    await inputs(dir, 2);
    const endpoint = freeEndpoint();
    const persistent = worker(endpoint, ["--persist"]);
    const processes = [persistent];
    try {
      for (const run of [1, 2]) {
        await Deno.remove(join(dir, "out"), { recursive: true }).catch(() => {});
        const server = serve(endpoint, dir);
        processes.push(server);
        const result = await finished(server);
        assert.equal(result.code, 0, `run ${run}: ${result.stderr}`);
        const report = await readReport(dir);
        assert.equal(report.processed, 2);
        assert.equal(report.workers[0].pid, persistent.pid, `run ${run} used the same worker`);
      }
      await sleep(200);
      persistent.child.kill("SIGTERM");
      const out = await finished(persistent, 15_000);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stderr, /waiting for the next server/);
    } finally {
      await killAll(processes);
    }
  });
});

/**
 * Runs `fn` with a {@link TestServer} in a temporary folder and one `zpix worker` (with `flags`)
 * connected to it; closes the server and kills the worker after, whatever `fn` did.
 */
async function withWorker(
  flags: string[],
  fn: (server: TestServer, process: ZpixProcess) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const server = await TestServer.open(dir);
    const process = worker(server.endpoint, flags);
    try {
      await fn(server, process);
    } finally {
      server.close();
      await killAll([process]);
    }
  });
}

Deno.test("SIGTERM on a busy remote worker: it finishes the image, answers with more:false, leaves, exits 0", async () => {
  await withWorker([], async (server, process) => {
    const { id } = await server.expect("join");
    // A slow task: a small image made large and encoded with MozJPEG.
    await server.send(id, {
      type: "hello",
      worker: id,
      pipeline: {
        steps: [{ op: "resize", width: 2500, height: 2500, fit: "fill" }],
        format: "jpeg",
        quality: 90,
        encoder: "mozjpeg",
        maxPixels: 100_000_000,
      },
    });
    await server.expect("ready");
    const image = await Deno.readFile(join(SOURCE_ROOT, "tests/fixtures/quad_baseline.jpg"));
    await server.send(id, {
      type: "task",
      task: 0,
      attempt: 1,
      name: "quad_baseline.jpg",
      input: null,
      output: null,
    }, image);
    // It asks for its next image as it starts this one (the next bytes travel meanwhile).
    assert.equal((await server.expect("ready")).message.finishing, 0);
    await sleep(100);
    process.child.kill("SIGTERM");
    const { message, payload } = await server.expect("result", 60_000);
    assert.ok(message.ok, JSON.stringify(message));
    assert.equal(message.more, false, "the result says no more tasks");
    assert.equal(payload![0], 0xff, "the encoded JPEG comes back");
    await server.expect("leave");
    const out = await finished(process, 15_000);
    assert.equal(out.code, 0, out.stderr);
  });
});

/** The tasks a leaving worker answered were 0, 1, ... in order, and it exits 0. */
async function answeredInOrderThenExit0(answered: number[], process: ZpixProcess): Promise<void> {
  assert.deepEqual(answered, [...answered.keys()]);
  const out = await finished(process, 15_000);
  assert.equal(out.code, 0, out.stderr);
}

Deno.test("SIGTERM on a remote worker doing small images on its main thread: it answers what it started, leaves, exits 0", async () => {
  await withWorker([], async (server, process) => {
    const { id } = await server.expect("join");
    // Small images (worker/image_thread.ts HERE_MAX_PIXELS): done on the worker's main thread.
    await server.send(id, { type: "hello", worker: id, pipeline: fitPipeline(64) });
    await server.expect("ready");
    const image = await Deno.readFile(join(SOURCE_ROOT, "tests/fixtures/orient_1.jpg"));
    let sent = 0;
    const give = () =>
      server.send(id, {
        type: "task",
        task: sent,
        attempt: 1,
        name: `t${sent++}.jpg`,
        input: null,
        output: null,
      }, image.slice());
    await give();
    const answered: number[] = [];
    for (;;) {
      const { message, payload } = await server.next(30_000);
      if (message.type === "heartbeat") continue;
      if (message.type === "leave") break;
      if (message.type === "ready") await give(); // asked ahead, as it starts an image
      else if (message.type === "result") {
        assert.ok(message.ok && payload![0] === 0xff, JSON.stringify(message));
        answered.push(message.task);
        if (answered.length === 5) process.child.kill("SIGTERM");
        if (message.more) await give(); // it did not ask ahead (a task was waiting)
      } else assert.fail(JSON.stringify(message));
    }
    // Every image it started is answered, in order; only the one asked ahead may be left.
    assert.ok(answered.length >= 5 && answered.length >= sent - 1, `${answered} of ${sent}`);
    await answeredInOrderThenExit0(answered, process);
  });
});

/**
 * Welcomes a batching remote worker (`--batch batch`) with a pipeline that makes a photo a 1 MP
 * PNG (~20-30 ms, on the worker's main thread: image_thread.ts); returns `grant`, which sends it
 * one `tasks` message of the photo under each task number given.
 */
async function pngGrants(server: TestServer, batch: number) {
  const { id } = await server.expect("join");
  const pipeline = {
    ...fitPipeline(1000, "png"),
    steps: [{ op: "resize" as const, width: 1000, height: 1000, fit: "fill" as const }],
  };
  await server.send(id, { type: "hello", worker: id, pipeline });
  assert.equal((await server.expect("ready")).message.want, batch);
  const image = await Deno.readFile(join(SOURCE_ROOT, "tests/fixtures/orient_1.jpg"));
  const grant = (tasks: number[]) =>
    server.send(id, {
      type: "tasks",
      tasks: tasks.map((task) => ({
        task,
        attempt: 1,
        name: `t${task}.jpg`,
        input: null,
        output: null,
      })),
    }, tasks.map(() => image.slice()));
  return grant;
}

Deno.test("SIGTERM on a batching remote worker amid a grant of small images: it stops within the grant, leaves, exits 0", async () => {
  await withWorker(["--batch", "64"], async (server, process) => {
    const grant = await pngGrants(server, 64);
    await grant([...Array(64).keys()]);
    const answered: number[] = [];
    for (;;) {
      const { message } = await server.next(30_000);
      if (message.type === "heartbeat") continue;
      if (message.type === "leave") break;
      assert.equal(message.type, "results", JSON.stringify(message));
      if (message.type !== "results") break;
      if (!answered.length) process.child.kill("SIGTERM"); // on its first report
      answered.push(...message.results.map((r) => r.task));
    }
    // The event loop ran between its images, so the signal ended the grant early.
    assert.ok(
      answered.length < 64,
      `all ${answered.length} done: the signal waited for the grant`,
    );
    await answeredInOrderThenExit0(answered, process);
  });
});

Deno.test("a batching remote worker reports a small grant early only when no next grant waits in its socket", async () => {
  await withWorker(["--batch", "8"], async (server) => {
    const grant = await pngGrants(server, 8);
    // Two grants of 2 (at most half of --batch, as the window or the server's cap cuts them):
    // the second is in the socket long before the first image is done.
    await grant([0, 1]);
    await grant([2, 3]);
    const reports: number[][] = [];
    while (reports.flat().length < 4) {
      const { message } = await server.next(30_000);
      if (message.type === "heartbeat") continue;
      assert.equal(message.type, "results", JSON.stringify(message));
      if (message.type === "results") reports.push(message.results.map((r) => r.task));
    }
    // The first grant, with the next waiting, answered at its end; the last at half, as before.
    assert.deepEqual(reports, [[0, 1], [2], [3]]);
  });
});

Deno.test("serve --token lets in its own local workers (the token reaches them in the environment)", async () => {
  await withServe(
    3,
    ["--token", "local-token", "--workers", "1"],
    async ({ dir, names, server }) => {
      const result = await finished(server);
      assert.equal(result.code, 0, result.stderr);
      const report = await readReport(dir);
      assert.equal(report.processed, names.length);
      assert.ok(report.workers.every((w) => w.host === "local"));
    },
  );
});

Deno.test("CURVE: keygen keys; a worker without the server's key gets nothing, one with it does the run", async () => {
  await withTempDir(async (keys) => {
    const made = await spawnZpix(["keygen", keys]).output;
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await Deno.stat(join(keys, "server.key"))).mode! & 0o777, 0o600);
    const again = await spawnZpix(["keygen", keys]).output;
    assert.equal(again.code, 3, "keygen never overwrites a key");
    const publicKey = /public-key = "(.{40})"/.exec(
      await Deno.readTextFile(join(keys, "server.pub")),
    )![1];
    await withServe(
      3,
      ["--curve-secret", join(keys, "server.key"), "--token", "t"],
      async ({ dir, names, server, worker }) => {
        const plain = worker(["--token", "t"]);
        await sleep(2500);
        assert.deepEqual(await files(join(dir, "out")), [], "no handshake, no task");
        plain.child.kill("SIGKILL");
        // Under `deno task worker`'s sandbox the key is passed itself, not as a file.
        const keyed = worker(["--token", "t", `--curve-server-key=${publicKey}`]);
        const result = await finished(server);
        // On a failure, what the keyed worker said too (it is killed if still running).
        const said = result.code === 0 ? "" : (await finished(keyed, 1000)).stderr;
        assert.equal(result.code, 0, `server: ${result.stderr}\nkeyed worker: ${said}`);
        assert.match(result.stderr, /CURVE-encrypted/);
        assert.equal((await readReport(dir)).processed, names.length);
      },
    );
  });
});

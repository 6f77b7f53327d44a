/**
 * Reliability under real faults: worker processes killed, crashing or
 * hanging on an image, Ctrl-C and SIGTERM, the server killed, worker
 * recycling. Every test runs zpix as a real process with real workers,
 * real signals and real files; crashes and hangs on a chosen image come
 * from the test-only hook in worker/fault.ts (`ZPIX_FAULT`).
 *
 * Bad input (corrupt files, FIFOs, full disks...) is in bad_input_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../ops/codec.ts";
import { sleep } from "./helpers.ts";
import {
  allExist,
  noProcessesLeft,
  processesWith,
  readReport,
  startRun,
  temporaries,
  waitUntil,
  withRunDir,
  workerPids,
  writeImages,
} from "./reliability_helpers.ts";

const NAMES = ["a.jpg", "b.jpg", "c.jpg", "d.png", "e.jpg", "f.jpg"];

/** Arguments of a small run over `dir/in` into `dir/out` with a JSON report. */
function runArgs(dir: string, ...extra: string[]): string[] {
  return [
    "parallel",
    "--input",
    join(dir, "in"),
    "--output",
    join(dir, "out"),
    "--size",
    "32",
    "32",
    "--report",
    join(dir, "report.json"),
    ...extra,
  ];
}

/** Every output decodes completely: no partial file. */
async function assertComplete(out: string, names: string[]): Promise<void> {
  for (const name of names) {
    const decoded = await decodeImage(await Deno.readFile(join(out, name)));
    assert.deepEqual(decoded.warnings, [], `${name} is not complete`);
    assert.deepEqual([decoded.image.width, decoded.image.height], [32, 32]);
  }
}

Deno.test("a worker killed with SIGKILL mid-task: noticed at once, task retried, worker replaced", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, NAMES);
    // One worker; it stalls on c.jpg's first attempt, so the kill lands mid-task.
    const run = startRun(runArgs(dir, "-w", "1", "--verbose"), { faults: "stall@1:c.jpg" });
    // The worker asks for c.jpg before it writes b.jpg: once b's result is recorded, c is its.
    await run.waitFor(/b\.jpg → b\.jpg/, 60_000);
    const [worker] = workerPids(input);
    assert.ok(worker, "no worker process found");
    const killed = performance.now();
    Deno.kill(worker, "SIGKILL");
    const lost = await run.waitFor(/w1 lost \(worker process killed by SIGKILL\) while on c\.jpg/);
    const latency = lost.t - killed;
    console.log(`detection latency of a SIGKILLed worker: ${latency.toFixed(0)} ms`);
    assert.ok(latency < 2000, `${latency} ms`);
    const { code } = await run.done;
    assert.deepEqual(code, 0);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual(report.processed, NAMES.length);
    assert.deepEqual(report.failed, []);
    assert.deepEqual(report.workers.map((w) => w.id), ["w1", "w2"]);
    assert.deepEqual(report.workers[1].processed, 4); // c (attempt 2), d, e, f on the replacement
    await assertComplete(join(dir, "out"), NAMES);
    assert.deepEqual(await temporaries(join(dir, "out")), []);
    await noProcessesLeft(input);
  });
});

Deno.test("an image that kills its worker each time is failed after 3 attempts; the run goes on", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, NAMES);
    const run = startRun(runArgs(dir, "-w", "2"), { faults: "crash:c.jpg" });
    const { code, stdout } = await run.done;
    assert.deepEqual(code, 1);
    assert.match(stdout, /processed 5\/6/);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual(report.processed, 5);
    assert.deepEqual(report.failed.length, 1);
    assert.deepEqual(report.failed[0].path, "c.jpg");
    assert.deepEqual(
      report.failed[0].error,
      "worker process exited with code 70 on each of 3 attempts; giving up on this image",
    );
    // Three workers died on c.jpg (task 2), one attempt each, and did nothing after it.
    const doomed = report.workers.filter((w) => w.spans.some((span) => span.task === 2));
    assert.deepEqual(
      doomed.map((w) => w.spans.filter((span) => span.task === 2).length),
      [1, 1, 1],
      `workers: ${JSON.stringify(report.workers.map((w) => [w.id, w.spans]))}`,
    );
    for (const worker of doomed) assert.deepEqual(worker.spans.at(-1)!.task, 2);
    assert.deepEqual(report.workers.reduce((sum, w) => sum + w.processed, 0), 5);
    await assertComplete(join(dir, "out"), NAMES.filter((n) => n !== "c.jpg"));
    assert.deepEqual(await temporaries(join(dir, "out")), []);
    await noProcessesLeft(input);
  });
});

Deno.test("a hanging task: --task-timeout replaces the worker, retries, fails it after --max-attempts", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, NAMES);
    // c.jpg spins forever (no heartbeats, like a runaway WASM loop); e.jpg only on attempt 1.
    const run = startRun(
      runArgs(dir, "-w", "2", "--task-timeout", "3", "--max-attempts", "2"),
      { faults: "hang:c.jpg|hang@1:e.jpg" },
    );
    const { code } = await run.done;
    assert.deepEqual(code, 1);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual(report.failed, [{
      path: "c.jpg",
      error:
        "task took longer than --task-timeout 3s on each of 2 attempts; giving up on this image",
    }]);
    assert.deepEqual(report.processed, 5);
    await assertComplete(join(dir, "out"), NAMES.filter((n) => n !== "c.jpg"));
    await noProcessesLeft(input);
  });
});

Deno.test("a worker that stops answering (SIGSTOP) is lost by heartbeat silence, killed and replaced", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, NAMES);
    // a.jpg stalls one worker (its heartbeats go on) until --task-timeout; the
    // other does the rest and idles. Both are frozen: the busy one is left to
    // the task timeout, the idle one can only be found out by its silence. One task at a time:
    // with the default --prefetch 1 (or --batch) the stalled worker would hold more until its
    // timeout.
    const args = [
      "-w",
      "2",
      "--task-timeout",
      "10",
      "--verbose",
      "--prefetch",
      "0",
      "--batch",
      "1",
    ];
    const run = startRun(runArgs(dir, ...args), {
      faults: "stall@1:a.jpg",
    });
    const rest = NAMES.filter((n) => n !== "a.jpg");
    await waitUntil(() => allExist(join(dir, "out"), rest), 60_000, "b..f done");
    const pids = workerPids(input);
    assert.deepEqual(pids.length, 2);
    for (const pid of pids) Deno.kill(pid, "SIGSTOP");
    const frozen = performance.now();
    const lost = await run.waitFor(/w\d lost \(worker silent for/, 15_000);
    console.log(`silence noticed ${(lost.t - frozen).toFixed(0)} ms after SIGSTOP`);
    assert.ok(lost.t - frozen < 6000, `${lost.t - frozen} ms`);
    // The silent worker is killed (so it is replaced and cannot come back).
    await waitUntil(
      () => workerPids(input).filter((p) => pids.includes(p)).length === 1,
      5000,
      "silent worker killed",
    );
    await run.waitFor(/worker w3 joined/);
    for (const pid of workerPids(input)) Deno.kill(pid, "SIGCONT");
    const { code } = await run.done;
    assert.deepEqual(code, 0);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual([report.processed, report.failed], [NAMES.length, []]);
    await noProcessesLeft(input);
  });
});

/**
 * `serve --workers 0` of `names` (made in `dir/in`) into `dir/out` with
 * `--task-timeout timeout`, listening; `worker` starts a remote worker
 * (`faults`: its ZPIX_FAULT; `extra`: its flags).
 */
async function serveRemote(dir: string, names: string[], timeout: number) {
  const input = join(dir, "in");
  await writeImages(input, names);
  const endpoint = `ipc://${dir}/tasks`;
  const server = startRun([
    "serve",
    ...["--bind", endpoint, "--workers", "0", "--input", input, "--output", join(dir, "out")],
    ...["--size", "32", "32", "--task-timeout", String(timeout), "--verbose"],
    ...["--report", join(dir, "report.json")],
  ], { env: ["ZPIX_TOKEN"] });
  await server.waitFor(/listening for workers/);
  const worker = (faults?: string, extra: string[] = []) =>
    startRun(["worker", "--connect", endpoint, ...extra], {
      faults,
      env: ["ZPIX_TOKEN"],
      sys: ["hostname"],
    });
  return { server, worker };
}

Deno.test("a remote worker taken for lost comes back and is used again; a hung remote task is requeued", async () => {
  await withRunDir(async (dir) => {
    const names = ["a.jpg", "b.jpg", "c.jpg"];
    const { server, worker } = await serveRemote(dir, names, 6);
    // The first worker to join takes a.jpg and stalls on it for good (its heartbeats go on). One
    // task at a time (--batch 1): this is about a worker coming back while another holds a.jpg;
    // with a batch the stalled worker would also hold b.jpg until --task-timeout (the next test).
    const stalled = worker("stall:a.jpg", ["--batch", "1"]);
    // Not at its join: the other worker could still ask first (its `ready` ahead of this one's).
    await stalled.waitFor(/fault: stall on a\.jpg/);
    const other = worker();
    await waitUntil(() => allExist(join(dir, "out"), ["b.jpg", "c.jpg"]), 60_000, "b, c done");
    // Frozen while idle: lost to silence; thawed: told to rejoin, and it does a.jpg when
    // --task-timeout takes it from the stalled worker.
    Deno.kill(other.pid, "SIGSTOP");
    await server.waitFor(new RegExp(`-${other.pid} lost \\(worker silent for 2.5s\\)`), 15_000);
    Deno.kill(other.pid, "SIGCONT");
    await server.waitFor(
      new RegExp(`-${other.pid} speaks again after being taken for lost`),
      15_000,
    );
    const { code } = await server.done;
    assert.equal(code, 0);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual([report.processed, report.failed], [3, []]);
    // Both workers hear the quit (the stalled one too) and exit.
    assert.equal((await other.done).code, 0);
    assert.equal((await stalled.done).code, 0);
    await assertComplete(join(dir, "out"), names);
  });
});

Deno.test("a hung remote worker with the default --batch: its whole grant goes back to the queue at --task-timeout, every image is written", async () => {
  await withRunDir(async (dir) => {
    const out = join(dir, "out");
    const { server, worker } = await serveRemote(dir, NAMES, 3);
    // Both workers stall on a.jpg's first attempt for good (their heartbeats go on): whichever is
    // given it first (the first to join, alone: half the queue at once, a, b and c, within its
    // default --batch) holds the tasks granted behind it; a.jpg's second attempt goes through.
    const first = worker("stall@1:a.jpg");
    await server.waitFor(new RegExp(`worker \\S+-${first.pid} joined`));
    const second = worker("stall@1:a.jpg");
    // Only --task-timeout takes a.jpg from it, and b and c with it (not started: no attempt used).
    const lost = await server.waitFor(
      /-(\d+) lost \(task took longer than --task-timeout 3s\) while on a\.jpg/,
      60_000,
    );
    const [stalled, other] = lost.text.includes(`-${first.pid} lost`)
      ? [first, second]
      : [second, first];
    const { code } = await server.done;
    assert.equal(code, 0);
    await assertComplete(out, NAMES);
    assert.deepEqual(await temporaries(out), []);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual([report.processed, report.failed], [NAMES.length, []]);
    const byPid = (pid: number) => report.workers.find((w) => w.pid === pid)!;
    // The stalled worker finished nothing: its one span is a.jpg's, lost; the other did all six,
    // a.jpg on its second attempt.
    assert.deepEqual(byPid(stalled.pid).processed, 0);
    assert.deepEqual(byPid(stalled.pid).spans.map((s) => [s.input, s.ok]), [["a.jpg", null]]);
    assert.deepEqual(byPid(other.pid).processed, NAMES.length);
    // b.jpg waited behind a.jpg in the stalled worker's grant (whether it joined alone or not, the
    // grant held two at least): the other worker started it only once a.jpg's attempt was lost.
    const lostAt = byPid(stalled.pid).spans[0].end;
    const b = byPid(other.pid).spans.find((s) => s.input === "b.jpg")!;
    assert.ok(b.start >= lostAt, `b.jpg started at ${b.start} ms, a.jpg was lost at ${lostAt}`);
    assert.equal((await other.done).code, 0);
    await stalled.done;
  });
});

for (const [signal, code, group] of [["SIGINT", 130, true], ["SIGTERM", 143, false]] as const) {
  Deno.test(`${signal}${group ? " to the process group (Ctrl-C)" : ""}: exit ${code}, finished files kept, nothing partial, no process left; --skip-existing resumes`, async () => {
    await withRunDir(async (dir) => {
      const input = join(dir, "in");
      const out = join(dir, "out");
      await writeImages(input, NAMES);
      // f.jpg stalls for good: the run is surely mid-way when the signal comes.
      const run = startRun(runArgs(dir, "-w", "2"), { faults: "stall:f.jpg", setsid: group });
      const done = NAMES.slice(0, 5);
      await waitUntil(() => allExist(out, done), 60_000, "a..e done");
      assert.deepEqual(workerPids(input).length, 2);
      Deno.kill(group ? -run.pid : run.pid, signal);
      const result = await run.done;
      assert.deepEqual(result.code, code, result.stderr);
      assert.match(result.stderr, new RegExp(`${signal}: stopping`));
      assert.deepEqual(await temporaries(out), []);
      await assertComplete(out, done);
      const report = await readReport(join(dir, "report.json"));
      assert.deepEqual(report.interrupted, true);
      assert.deepEqual(report.processed, 5);
      await noProcessesLeft(input);

      // A stale temporary from a crashed run is swept; existing outputs are skipped.
      await Deno.writeFile(join(out, ".f.jpg.zpix-tmp-1-deadbeef"), new Uint8Array(10));
      const again = startRun(runArgs(dir, "-w", "1", "--skip-existing"));
      assert.deepEqual((await again.done).code, 0);
      const resumed = await readReport(join(dir, "report.json"));
      assert.deepEqual([resumed.skipped, resumed.processed, resumed.failed], [5, 1, []]);
      assert.deepEqual(await temporaries(out), []);
      await assertComplete(out, NAMES);
    });
  });
}

Deno.test("a second Ctrl-C exits at once", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, NAMES);
    // Every image hangs (no heartbeats): a polite stop would wait for the exit grace period.
    const run = startRun(runArgs(dir, "-w", "1"), {
      faults: NAMES.map((n) => `hang:${n}`).join("|"),
      setsid: true,
    });
    await run.waitFor(/parallel: 6 image/);
    await waitUntil(() => workerPids(input).length === 1, 30_000, "worker started");
    await sleep(1500);
    Deno.kill(-run.pid, "SIGINT");
    await run.waitFor(/SIGINT: stopping/);
    Deno.kill(-run.pid, "SIGINT");
    const { code } = await run.done;
    assert.deepEqual(code, 130);
    // The spinning worker is deaf to quit and ignores SIGINT: the server kills it on its way out.
    await noProcessesLeft(input, 3000);
  });
});

Deno.test("the server killed with SIGKILL: its workers notice the silence and exit by themselves", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, NAMES);
    // f.jpg stalls one worker mid-task (it keeps listening); the other idles.
    const run = startRun(runArgs(dir, "-w", "2"), { faults: "stall:f.jpg" });
    await waitUntil(() => allExist(join(dir, "out"), NAMES.slice(0, 5)), 60_000, "a..e done");
    const pids = workerPids(input);
    assert.deepEqual(pids.length, 2);
    const killed = performance.now();
    Deno.kill(run.pid, "SIGKILL");
    await run.done;
    // Workers wait --server-timeout (5 s by default) of silence.
    await waitUntil(
      () => pids.every((pid) => !processesWith(input).includes(pid)),
      15_000,
      "workers exited",
    );
    console.log(
      `workers exited ${
        ((performance.now() - killed) / 1000).toFixed(1)
      } s after the server was killed`,
    );
  });
});

Deno.test("--max-tasks-per-worker recycles workers; every image is still done once", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, NAMES);
    const run = startRun(runArgs(dir, "-w", "1", "--max-tasks-per-worker", "2"));
    const { code } = await run.done;
    assert.deepEqual(code, 0);
    const report = await readReport(join(dir, "report.json"));
    assert.deepEqual(report.processed, 6);
    assert.deepEqual(report.workers.map((w) => [w.id, w.processed]), [["w1", 2], ["w2", 2], [
      "w3",
      2,
    ]]);
    assert.deepEqual(new Set(report.workers.map((w) => w.pid)).size, 3);
    await noProcessesLeft(input);
  });
});

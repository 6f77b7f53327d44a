/**
 * Hostile peers (issue 13): each attack on `zpix serve`, replayed with real
 * processes and real sockets on 127.0.0.1 by a raw peer that speaks (or
 * mangles) the wire protocol, and the defence asserted: no task or output
 * for a peer without the token, the run ends with exit 0, every honest image
 * done and the report written, finished outputs unchanged, the server's
 * memory bounded. Each test logs the time of its honest run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { sniffFormat, type WritableFormat } from "../ops/formats.ts";
import { spawnZpix, TestServer, withTempDir, ZPIX_FLAGS } from "./helpers.ts";
import type { Pipeline } from "../core/job.ts";
import { keygen, workerCurveOptions } from "../transport/curve.ts";
import {
  finished,
  freeEndpoint,
  inputs,
  kill,
  memoryOf,
  PLANTED,
  RawPeer,
  readReport,
  realWorker,
  serve,
  sleep,
} from "./hostile_helpers.ts";
import type { ZpixProcess } from "./helpers.ts";
import { doneResult } from "./helpers.ts";
import { encodeMessage, type WorkerMessage } from "../transport/protocol.ts";

const TOKEN = "s3cret-token";

/** Runs `fn` with `count` inputs and `zpix serve` (token set); kills what is left. */
async function withServe(
  count: number,
  serveArgs: string[],
  fn: (bench: {
    dir: string;
    names: string[];
    endpoint: string;
    server: ZpixProcess;
    worker(extra?: string[]): ZpixProcess;
    peer(id: string): RawPeer;
  }) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const names = await inputs(dir, count);
    const endpoint = freeEndpoint();
    const server = serve(endpoint, dir, ["--workers", "0", ...serveArgs]);
    const processes = [server];
    const peers: RawPeer[] = [];
    try {
      await fn({
        dir,
        names,
        endpoint,
        server,
        worker: (extra = []) => {
          const process = realWorker(endpoint, ["--token", TOKEN, ...extra]);
          processes.push(process);
          return process;
        },
        peer: (id) => {
          const peer = new RawPeer(endpoint, id);
          peers.push(peer);
          return peer;
        },
      });
    } finally {
      for (const peer of peers) peer.close();
      processes.forEach(kill);
      await Promise.all(processes.map((p) => p.output.catch(() => {})));
    }
  });
}

/** Asserts every output exists and none is what an attacker planted. */
async function assertHonestOutputs(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    const bytes = await Deno.readFile(join(dir, "out", name));
    assert.ok(bytes.length > PLANTED.length, `${name} is a real image`);
    assert.notDeepEqual(bytes, PLANTED, `${name} was planted by an attacker`);
  }
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

Deno.test("attack 1: a peer without the token that takes a lost worker's id gets no task and writes nothing", async () => {
  await withServe(6, ["--token", TOKEN], async ({ dir, names, server, worker, peer }) => {
    // An honest worker joins, takes a task, and dies: taken for lost after 2.5 s of silence.
    const honest = peer("victim-1234");
    await honest.join(TOKEN);
    const { message: task } = await honest.next();
    assert.equal(task.type, "task");
    honest.close();
    await sleep(3500);
    // The attacker reuses its id, never sends the token, and says everything but `join`.
    const attacker = peer("victim-1234");
    const t = task as { task: number; attempt: number };
    await attacker.send({ type: "heartbeat" });
    await attacker.send({ type: "ready" });
    await attacker.answer(t, PLANTED, "jpeg");
    const told = await attacker.drain(1500);
    assert.ok(told.length > 0, "it is told something");
    assert.ok(
      told.every((m) => m.type === "refused" && m.rejoin === true),
      `only 'join again': ${JSON.stringify(told)}`,
    );
    // Joining without the token is refused; it still gets no task.
    const wrong = peer("other-1");
    await wrong.send({ type: "join", pid: 1, host: "x", local: false, token: "guess" });
    assert.deepEqual((await wrong.next()).message.type, "refused");
    await wrong.send({ type: "ready" });
    assert.deepEqual(await wrong.drain(1000), []);

    const t0 = performance.now(); // the honest run: from its worker's start
    const result = await honestRun({ dir, names, server, worker });
    assert.doesNotMatch(result.stderr, /is back/);
    console.log(`  honest run under attack 1: ${seconds(t0)} s`);
  });
});

Deno.test("attack 2: malformed and mistyped messages are dropped; the run ends with exit 0 and its report", async () => {
  await withServe(6, ["--token", TOKEN], async ({ dir, names, server, worker, peer }) => {
    const evil = peer("evil-1");
    await evil.join(TOKEN);
    const { message } = await evil.next();
    const t = message as { task: number; attempt: number };
    const base = { v: 1, type: "result", task: t.task, attempt: t.attempt, more: true };
    const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    // A result with ok and no timings used to throw in the broker loop: exit 3, no report.
    await evil.send({
      ...base,
      ok: true,
      format: "jpeg",
      width: 1,
      height: 1,
      bytes: 5,
      warnings: [],
    }, PLANTED);
    await evil.send({
      ...base,
      ok: true,
      format: "jpeg",
      width: 1,
      height: 1,
      bytes: 5,
      warnings: "x",
      timings: {},
    });
    await evil.send({ ...base, ok: false, error: {} });
    // Valid, but for an attempt it does not hold: dropped (were it held, the error would be cut).
    await evil.send({ ...base, attempt: t.attempt + 1, ok: false, error: "x".repeat(100_000) });
    await evil.send({ ...base, task: 1e300 });
    await evil.send({ ...base, v: "1" });
    for (
      const frames of [
        [new Uint8Array([0xff, 0, 1])],
        [text([1, 2])],
        [text(null)],
        [text({ v: 1, type: "ready" }), new Uint8Array(1), new Uint8Array(1)],
        [text({ v: 1, type: "__proto__" })],
        [text({ v: 1, type: "join", pid: 1, host: { toString: 1 }, local: false, token: null })],
      ]
    ) await evil.sendFrames(frames);
    await sleep(500);
    assert.equal(
      await Promise.race([server.output.then(() => "exited"), sleep(10).then(() => "up")]),
      "up",
    );
    evil.close();

    const t0 = performance.now(); // the honest run: from its worker's start
    worker();
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    const report = await readReport(dir);
    assert.deepEqual([report.processed, report.failed], [names.length, []]);
    assert.doesNotMatch(JSON.stringify(report), /object Object|xxxxxxxxxx/);
    assert.ok(
      result.stderr.split("\n").every((line) => line.length < 2500),
      "no line is unbounded",
    );
    await assertHonestOutputs(dir, names);
    // Warnings about the bad messages: rate-limited, so a handful, not one per message.
    const bad = result.stderr.split("\n").filter((l) => /ignoring a bad message/.test(l));
    assert.ok(bad.length >= 1 && bad.length <= 3, bad.join("\n"));
    console.log(`  honest run under attack 2: ${seconds(t0)} s`);
  });
});

Deno.test("attack 3: late and foreign results never replace a finished output", async () => {
  await withServe(
    5,
    ["--token", TOKEN, "--task-timeout", "2"],
    async ({ dir, names, server, peer }) => {
      const t0 = performance.now();
      // A joins first and sits on its task: after --task-timeout it is replaced.
      const late = peer("late-1");
      await late.join(TOKEN);
      const { message: held } = await late.next();
      const lateTask = held as { task: number; attempt: number };
      late.beat();
      const honest = peer("honest-1");
      await honest.join(TOKEN);
      const thief = peer("thief-1");
      await thief.join(TOKEN);
      // The honest worker echoes each input as its output, and holds its last task until the
      // attacks are made (so that the run is still on).
      let answered = 0;
      let release = () => {};
      const attacked = new Promise<void>((resolve) => release = resolve);
      const honestDone = (async () => {
        while (answered < names.length) {
          const { message, payload } = await honest.next(20_000);
          if (message.type !== "task") continue;
          if (answered === names.length - 1) await attacked;
          await honest.answer(message, payload!, sniffFormat(payload!)! as WritableFormat);
          answered++;
        }
      })();
      for (const deadline = performance.now() + 30_000; answered < names.length - 1;) {
        assert.ok(performance.now() < deadline, `only ${answered} tasks answered within 30 s`);
        await sleep(50);
      }
      // Outputs finished so far, byte for byte (the server writes them off its message loop:
      // the last may land a moment after its answer).
      const before = new Map<string, Uint8Array>();
      for (const deadline = performance.now() + 30_000; before.size < names.length - 1;) {
        assert.ok(performance.now() < deadline, `only ${before.size} outputs written within 30 s`);
        for (const name of names) {
          try {
            before.set(name, await Deno.readFile(join(dir, "out", name)));
          } catch { /* not yet */ }
        }
        if (before.size < names.length - 1) await sleep(50);
      }
      // The replaced attempt answers late; the thief answers tasks it never held, every attempt.
      await late.answer(lateTask, PLANTED, "jpeg");
      for (let task = 0; task < names.length; task++) {
        for (const attempt of [1, 2, 3]) await thief.answer({ task, attempt }, PLANTED, "jpeg");
      }
      await sleep(500);
      for (const [name, bytes] of before) {
        assert.deepEqual(await Deno.readFile(join(dir, "out", name)), bytes, `${name} unchanged`);
      }
      release();
      await honestDone;
      const result = await finished(server);
      assert.equal(result.code, 0, result.stderr);
      const report = await readReport(dir);
      assert.deepEqual([report.processed, report.failed], [names.length, []]);
      for (const name of names) {
        assert.deepEqual(
          await Deno.readFile(join(dir, "out", name)),
          await Deno.readFile(join(dir, "in", name)),
          `${name} is the honest worker's output`,
        );
      }
      // The thief's results counted for nothing: the honest worker did every image.
      const byId = new Map(report.workers.map((w) => [w.id, w.processed]));
      assert.equal(byId.get("honest-1"), names.length);
      console.log(`  honest run under attack 3: ${seconds(t0)} s`);
    },
  );
});

Deno.test("attack 4: 2x200 MB frames from peers without the token leave the server's memory bounded; no forged log line", async () => {
  await withServe(8, ["--token", TOKEN], async ({ dir, names, server, worker, endpoint }) => {
    await sleep(1500); // listening, its modules loaded
    const before = memoryOf(server.pid);
    const big = new Uint8Array(200 * 1024 * 1024).fill(7);
    const flooders = [new RawPeer(endpoint, "flood-1"), new RawPeer(endpoint, "flood-2")];
    const forger = new RawPeer(endpoint, "evil\n[zpix] forged line\u001b[31m");
    try {
      await Promise.all(flooders.map((f) => f.sendFrames([big])));
      await Promise.all(flooders.map((f) => f.send({ type: "ready" }, big)));
      await flooders[0].send({
        type: "join",
        pid: 1,
        host: "h".repeat(200 * 1024 * 1024),
        local: false,
        token: null,
      });
      await forger.send({
        type: "join",
        pid: 1,
        host: "x\n[zpix] forged too\u001b[2J",
        local: false,
        token: "no",
      });
      // And 2x200 MB again, in 3 MB frames, under the largest frame this job accepts.
      const frame = big.subarray(0, 3 * 1024 * 1024);
      await Promise.all(flooders.map(async (f) => {
        for (let i = 0; i < 67; i++) {
          await f.sendFrames(i % 2 ? [frame] : [new Uint8Array(10), frame]);
        }
      }));
      await sleep(3000);
      const during = memoryOf(server.pid);
      const t0 = performance.now();
      worker();
      const result = await finished(server);
      assert.equal(result.code, 0, result.stderr);
      const report = await readReport(dir);
      assert.deepEqual([report.processed, report.failed], [names.length, []]);
      console.log(
        `  server memory: VmRSS ${before.rss.toFixed(0)} MiB before, VmHWM ${
          during.hwm.toFixed(0)
        } MiB / VmRSS ${
          during.rss.toFixed(0)
        } MiB after 2x200 MB frames, a 200 MB host, and 2x200 MB in 3 MB frames; ` +
          `honest run: ${seconds(t0)} s`,
      );
      assert.ok(during.hwm - before.rss < 64, `server grew by ${during.hwm - before.rss} MiB`);
      // Peer-chosen text never forges a line, nor carries an escape sequence.
      assert.match(
        result.stderr,
        /refused worker evil\\u000a\[zpix\] forged line\\u001b\[31m from x\\u000a/,
      );
      assert.ok(!result.stderr.includes("\u001b"), "no escape sequence reaches the log");
      assert.doesNotMatch(result.stderr, /^\[zpix\] forged/m);
      assert.ok(result.stderr.split("\n").every((line) => line.length < 1000));
    } finally {
      for (const peer of [...flooders, forger]) peer.close();
    }
  });
});

for (const recycle of [[], ["--max-tasks-per-worker", "1"]]) {
  Deno.test(`attack 5: peers squatting w1 and w2 before serve --workers 2 ${recycle.join(" ")}: the run completes`, async () => {
    await withTempDir(async (dir) => {
      const names = await inputs(dir, 6);
      const endpoint = freeEndpoint();
      // They connect first (ZeroMQ retries until the server binds) and keep talking.
      const squatters = ["w1", "w2", "w3"].map((id) => new RawPeer(endpoint, id));
      squatters.forEach((s) => s.beat());
      await sleep(300);
      const t0 = performance.now();
      const server = serve(endpoint, dir, ["--workers", "2", ...recycle]);
      try {
        const result = await finished(server, 60_000);
        assert.equal(result.code, 0, result.stderr);
        const report = await readReport(dir);
        assert.deepEqual([report.processed, report.failed], [names.length, []]);
        assert.ok(report.workers.every((w) => w.host === "local"), "only the run's own workers");
        for (const squatter of squatters) {
          const told = await squatter.drain(200);
          assert.ok(told.every((m) => m.type !== "task" && m.type !== "hello"));
        }
        console.log(`  honest run under attack 5 ${recycle.join(" ")}: ${seconds(t0)} s`);
      } finally {
        squatters.forEach((s) => s.close());
        kill(server);
        await server.output;
      }
    });
  });
}

Deno.test("attack 6: workers that hold tasks and never answer get no task twice and cannot starve an honest one", async () => {
  const args = ["--token", TOKEN, "--payload-window", "2", "--task-timeout", "2"];
  await withServe(8, args, async ({ dir, names, server, worker, peer }) => {
    const t0 = performance.now();
    let over = false;
    const stuck = ["stuck-1", "stuck-2", "stuck-3"].map((id) => peer(id));
    const got = new Map<string, string[]>(stuck.map((s) => [s.id, []]));
    // Each joins, takes what it is given, heartbeats, never answers, and knocks again when refused.
    const loops = stuck.map(async (s) => {
      await s.join(TOKEN);
      s.beat();
      while (!over) {
        let message;
        try {
          message = (await s.next(500)).message;
        } catch {
          continue;
        }
        if (message.type === "task") got.get(s.id)!.push(`${message.task}`);
        if (message.type === "refused") {
          await s.send({ type: "join", pid: 1, host: "raw", local: false, token: TOKEN });
        }
        if (message.type === "hello") await s.send({ type: "ready" });
      }
    });
    await sleep(500);
    worker();
    const result = await finished(server);
    over = true;
    await Promise.all(loops);
    assert.equal(result.code, 0, result.stderr);
    const report = await readReport(dir);
    assert.deepEqual([report.processed, report.failed], [names.length, []], "no image failed");
    for (const [id, tasks] of got) {
      assert.ok(tasks.length <= 1, `${id} was given ${tasks.join(", ")} (at most one task, once)`);
    }
    assert.match(result.stderr, /task took longer than --task-timeout 2s/);
    console.log(
      `  honest run under attack 6: ${seconds(t0)} s (stuck workers got: ${
        JSON.stringify(Object.fromEntries(got))
      })`,
    );
  });
});

const PIPELINE: Pipeline = {
  steps: [{ op: "resize", width: 64, height: 48, fit: "fill" }],
  format: "same",
  quality: 80,
  encoder: "fast",
  maxPixels: 1_000_000,
};

Deno.test("attack 7: a remote worker never touches the paths a (malicious) server names, even where it may", async () => {
  await withTempDir(async (dir) => {
    const [name] = await inputs(dir, 1);
    const secret = join(dir, "in", name);
    const victim = join(dir, "victim.jpg");
    await Deno.writeTextFile(victim, "precious");
    const server = await TestServer.open(dir);
    // As broad as a compiled binary's permissions: only the worker's own rule stops it.
    const remote = spawnZpix(["worker", "--connect", server.endpoint, "--server-timeout", "5"], {
      flags: [
        "--allow-read",
        "--allow-write",
        ZPIX_FLAGS[2],
        "--allow-env",
        "--allow-sys=hostname",
      ],
    });
    try {
      const join_ = await server.expect("join");
      assert.equal(join_.message.local, false);
      await server.send(join_.id, { type: "hello", worker: join_.id, pipeline: PIPELINE });
      await server.expect("ready");
      const paths = { name, input: secret, output: victim };
      // Paths and bytes: it works on the bytes and answers with bytes.
      await server.send(
        join_.id,
        { type: "task", task: 0, attempt: 1, ...paths },
        await Deno.readFile(secret),
      );
      // It asks for its next task as it starts on these bytes.
      assert.equal((await server.expect("ready")).message.finishing, 0);
      const first = await server.expect("result");
      assert.equal(
        first.message.type === "result" && first.message.ok,
        true,
        JSON.stringify(first.message),
      );
      assert.ok(first.payload && first.payload.length > 0, "the output comes back as bytes");
      // Paths only: nothing to work on; it neither reads nor writes them.
      await server.send(join_.id, { type: "task", task: 1, attempt: 1, ...paths });
      const second = await server.expect("result");
      assert.deepEqual(
        second.message.type === "result" && !second.message.ok && second.message.error,
        "task carried no image bytes",
      );
      assert.equal(await Deno.readTextFile(victim), "precious");
      await server.broadcast({ type: "quit" });
      assert.equal((await finished(remote, 15_000)).code, 0);
    } finally {
      kill(remote);
      await remote.output;
      server.close();
    }
  });
});

Deno.test("a local worker blocked in a 3 s stage with --server-timeout 1 does not blame the server", async () => {
  await withTempDir(async (dir) => {
    const [name] = await inputs(dir, 1);
    await Deno.mkdir(join(dir, "out"));
    const server = await TestServer.open(dir);
    const beats = setInterval(() => server.broadcast({ type: "heartbeat" }), 250);
    const local = spawnZpix(
      ["worker", "--connect", server.endpoint, "--local", "--id", "w1.x", "--server-timeout", "1"],
      { flags: [...ZPIX_FLAGS, "--allow-env=ZPIX_FAULT"], env: { ZPIX_FAULT: `slow:${name}` } },
    );
    try {
      const join_ = await server.expect("join");
      await server.send(join_.id, { type: "hello", worker: join_.id, pipeline: PIPELINE });
      await server.expect("ready");
      const t0 = performance.now();
      await server.send(join_.id, {
        type: "task",
        task: 0,
        attempt: 1,
        name,
        input: join(dir, "in", name),
        output: join(dir, "out", name),
      });
      let result = await server.next(20_000);
      // A local worker asks ahead before it writes its output.
      while (result.message.type !== "result") result = await server.next(20_000);
      assert.ok(performance.now() - t0 >= 3000, "the stage did block");
      assert.equal(result.message.type === "result" && result.message.ok, true);
      await server.broadcast({ type: "quit" });
      const out = await finished(local, 15_000);
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stderr, /no word from the server/);
    } finally {
      clearInterval(beats);
      kill(local);
      await local.output;
      server.close();
    }
  });
});

Deno.test("attack 1 under CURVE: a peer holding only the public key gets no task and writes nothing", async () => {
  await withTempDir(async (keys) => {
    const { public: publicKey } = await keygen(keys);
    const secretFile = join(keys, "server.key");
    await withServe(
      4,
      ["--token", TOKEN, "--curve-secret", secretFile],
      async ({ dir, names, server, worker, endpoint }) => {
        const key = /public-key = "(.{40})"/.exec(await Deno.readTextFile(publicKey))?.[1] ??
          (await Deno.readTextFile(publicKey)).trim();
        const curve = workerCurveOptions(key);
        const spoof = new RawPeer(endpoint, "victim-9", curve);
        try {
          await spoof.send({ type: "ready" });
          await spoof.answer({ task: 0, attempt: 1 }, PLANTED, "jpeg");
          await spoof.send({ type: "join", pid: 1, host: "x", local: false, token: null });
          const told = await spoof.drain(1500);
          assert.deepEqual(told.map((m) => m.type), ["refused"], JSON.stringify(told));
          const t0 = performance.now(); // the honest run: from its worker's start
          worker([`--curve-server-key=${key}`]);
          const result = await finished(server);
          assert.equal(result.code, 0, result.stderr);
          const report = await readReport(dir);
          assert.deepEqual([report.processed, report.failed], [names.length, []]);
          await assertHonestOutputs(dir, names);
          console.log(`  honest run under attack 1 (CURVE): ${seconds(t0)} s`);
        } finally {
          spoof.close();
        }
      },
    );
  });
});

Deno.test("a peer that says it is local, with the token, still gets bytes, never paths", async () => {
  await withServe(2, ["--token", TOKEN], async ({ dir, server, peer }) => {
    const liar = peer("w1");
    await liar.send({ type: "join", pid: 1, host: "local", local: true, token: TOKEN });
    assert.equal((await liar.next()).message.type, "hello");
    await liar.send({ type: "ready" });
    const { message, payload } = await liar.next();
    assert.equal(message.type, "task");
    assert.deepEqual(
      message.type === "task" && [message.input, message.output],
      [null, null],
      `no path: ${JSON.stringify(message)}`,
    );
    assert.ok(payload && payload.length > 0);
    await liar.answer(
      message as { task: number; attempt: number },
      payload,
      sniffFormat(payload)! as WritableFormat,
    );
    const next = await liar.next();
    assert.equal(next.message.type, "task");
    await liar.answer(
      next.message as { task: number; attempt: number },
      next.payload!,
      sniffFormat(next.payload!)! as WritableFormat,
    );
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readReport(dir)).failed, []);
  });
});

/** A real worker does the rest: every image is done, honestly. Returns the server's output. */
async function honestRun(bench: {
  dir: string;
  names: string[];
  server: ZpixProcess;
  worker(): ZpixProcess;
}): Promise<Awaited<ReturnType<typeof finished>>> {
  bench.worker();
  const result = await finished(bench.server);
  assert.equal(result.code, 0, result.stderr);
  const report = await readReport(bench.dir);
  assert.deepEqual([report.processed, report.failed], [bench.names.length, []]);
  await assertHonestOutputs(bench.dir, bench.names);
  return result;
}

/** `peer`, joined as a remote worker with the token, beating. */
async function joined(peer: RawPeer): Promise<RawPeer> {
  await peer.send({ type: "join", pid: 1, host: "raw", local: false, token: TOKEN });
  assert.equal((await peer.next()).message.type, "hello");
  peer.beat();
  return peer;
}

/** `peer` answers the tasks it holds honestly (each input's bytes as its output), asking for none. */
function answerHonestly(
  peer: RawPeer,
  mine: { task: number; attempt: number }[],
  payloads: Uint8Array[],
): Promise<void> {
  return peer.sendFrames(encodeMessage(
    { type: "results", results: mine.map((m, i) => entry(m, payloads[i])), want: 0 },
    payloads,
  ));
}

/** A `results` entry that says `task` was done, its output `bytes`. */
function entry(task: { task: number; attempt: number }, bytes: Uint8Array) {
  const { type: _t, more: _m, ...rest } = doneResult(
    task,
    bytes.length,
    (sniffFormat(bytes) ?? "jpeg") as WritableFormat,
  ) as Extract<WorkerMessage, { type: "result" }>;
  return rest;
}

Deno.test("attack 8: a batching peer that asks for 10^9 tasks, repeats one in a batch and answers tasks it does not hold gets --batch at most and changes nothing", async () => {
  await withServe(
    12,
    ["--token", TOKEN, "--batch", "4"],
    async ({ dir, names, server, worker, peer }) => {
      const t0 = performance.now();
      const greedy = await joined(peer("greedy-1"));
      // Beyond the protocol's ceiling: dropped as a bad message (the warning below), no task.
      await greedy.send({ type: "ready", want: 1e9 });
      // At the ceiling: granted --batch 4, in one message, each task's bytes a frame.
      await greedy.send({ type: "ready", want: 64 });
      const { message, payloads } = await greedy.next();
      assert.equal(message.type, "tasks", JSON.stringify(message));
      const mine = message.type === "tasks" ? message.tasks : [];
      assert.equal(mine.length, 4);
      assert.equal(payloads?.length, 4);
      // One task twice in a batch: the whole message is refused by the schema.
      await greedy.sendFrames(encodeMessage({
        type: "results",
        results: [entry(mine[0], PLANTED), entry(mine[0], PLANTED)],
        want: 4,
      }, [PLANTED, PLANTED]));
      // Tasks it does not hold (every other index, attempts 1-3): each counts for nothing.
      const foreign = names.map((_, task) => task).filter((t) => !mine.some((m) => m.task === t));
      for (const attempt of [1, 2, 3]) {
        const results = foreign.slice(0, 8).map((task) => entry({ task, attempt }, PLANTED));
        await greedy.sendFrames(
          encodeMessage({ type: "results", results, want: 0 }, results.map(() => PLANTED)),
        );
      }
      // Then its own tasks, answered honestly (each input's bytes as its output), asking for none.
      await answerHonestly(greedy, mine, payloads!);
      worker();
      const result = await finished(server);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /greedy-1: ready: want must be a whole number in 1\.\.64/);
      const report = await readReport(dir);
      assert.deepEqual([report.processed, report.failed], [names.length, []]);
      assert.equal(report.workers.find((w) => w.id === "greedy-1")?.processed, 4);
      await assertHonestOutputs(dir, names);
      console.log(`  honest run under attack 8: ${seconds(t0)} s`);
    },
  );
});

Deno.test("attack 8b: a batching peer that asks for 64 tasks gets no more bytes than the payload window holds", async () => {
  const window = 100 * 1024; // the samples: 38, 46, 29, then 668 KB: two fit
  await withServe(
    12,
    ["--token", TOKEN, "--batch", "64", "--payload-window", "100KiB"],
    async ({ dir, names, server, worker, peer }) => {
      const greedy = await joined(peer("greedy-2"));
      await greedy.send({ type: "ready", want: 64 });
      const { message, payloads } = await greedy.next();
      assert.equal(message.type, "tasks", JSON.stringify(message));
      const mine = message.type === "tasks" ? message.tasks : [];
      const bytes = payloads!.reduce((sum, p) => sum + p.length, 0);
      assert.ok(mine.length >= 1 && bytes <= window, `${mine.length} tasks, ${bytes} bytes`);
      // Nothing more while it holds them, however often it asks.
      await greedy.send({ type: "ready", want: 64 });
      await assert.rejects(greedy.next(300));
      await answerHonestly(greedy, mine, payloads!);
      await honestRun({ dir, names, server, worker });
    },
  );
});

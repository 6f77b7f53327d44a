/**
 * `serve --shared-fs` and `worker --shared-fs DIR` (docs/distributed.md,
 * "Shared file system"): real server and worker processes on 127.0.0.1,
 * real files in a temporary folder standing for the shared mount, and peers
 * played by the test over real sockets where one must lie (a wrong probe, an
 * `ok` with no file, a server naming paths outside the worker's folders).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  finished,
  inputs,
  kill,
  RawPeer,
  readReport,
  realWorker,
  SERVE_FLAGS,
  WORKER_FLAGS,
} from "./hostile_helpers.ts";
import {
  doneResult,
  freeEndpoint,
  spawnZpix,
  TestServer,
  withTempDir,
  type ZpixProcess,
} from "./helpers.ts";
import { sha256Hex } from "../core/hex.ts";
import { PROBE_HASH_BYTES, type SharedFsProbe, type TaskMessage } from "../transport/protocol.ts";
import { EXIT } from "../core/errors.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import type { Pipeline } from "../core/job.ts";
import type { Step } from "../ops/pipeline.ts";

/** `zpix serve --workers 0` on DIR/in → `out`, verbose text logs. */
function serveTo(endpoint: string, dir: string, out: string, extra: string[] = []): ZpixProcess {
  return spawnZpix([
    "serve",
    ...["--bind", endpoint, "--workers", "0", "-i", join(dir, "in"), "-o", out],
    ...["--report", join(dir, "report.json"), "--verbose"],
    ...extra,
  ], { flags: SERVE_FLAGS });
}

/** `deno task worker`'s sandbox with `folders` added to its reads and writes (as bin/zpix does). */
function sharedFlags(folders: string[], extraReads: string[] = []): string[] {
  return [
    ...WORKER_FLAGS.map((flag) =>
      flag.startsWith("--allow-read=") ? [flag, ...folders, ...extraReads].join(",") : flag
    ),
    `--allow-write=${folders.join(",")}`,
  ];
}

/** `zpix worker --shared-fs F...` with read and write access to those folders. */
function sharedWorker(endpoint: string, folders: string[], extraReads: string[] = []) {
  return spawnZpix([
    "worker",
    "--connect",
    endpoint,
    ...folders.flatMap((f) => ["--shared-fs", f]),
  ], { flags: sharedFlags(folders, extraReads) });
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

/** The proof an honest worker gives for `hello.probe`, computed by the test from the files. */
async function proofFor(probe: SharedFsProbe) {
  const head = (await Deno.readFile(probe.input)).subarray(0, PROBE_HASH_BYTES);
  return { token: await Deno.readTextFile(probe.token), sha256: await sha256Hex(head) };
}

/** A raw peer joins naming `folder` as shared, beats, and gets a probe in its hello. */
async function joinShared(peer: RawPeer, folder: string): Promise<SharedFsProbe> {
  peer.beat();
  await peer.send({
    type: "join",
    pid: 1,
    host: "raw",
    local: false,
    token: null,
    sharedFs: [folder],
  });
  const { message } = await peer.next();
  assert.equal(message.type, "hello");
  assert.ok(message.probe, "a worker whose folders hold both of the job's folders gets a probe");
  return message.probe;
}

/** A pipeline that leaves images as they are. */
const PIPELINE: Pipeline = {
  steps: [],
  format: "same",
  quality: 75,
  encoder: "fast",
  maxPixels: 1e8,
};

/** Sends a worker task `n`: `input` to `output`, by path. */
function pathTask(server: TestServer, id: string, n: number, input: string, output: string) {
  const name = input.split("/").at(-1)!;
  return server.send(id, { type: "task", task: n, attempt: 1, name, input, output });
}

/** The next result a worker sends to a {@link TestServer} (asking ahead skipped). */
async function resultOf(server: TestServer) {
  for (;;) {
    const { message } = await server.next();
    if (message.type === "result") return message;
    assert.ok(message.type === "heartbeat" || message.type === "ready", message.type);
  }
}

Deno.test("serve --shared-fs + two workers --shared-fs: paths, not bytes, and the bytes path's outputs", async () => {
  await withTempDir(async (dir) => {
    const inputNames = await inputs(dir, 8);
    // The bytes path first: the reference.
    let endpoint = freeEndpoint();
    const bytesRun = serveTo(endpoint, dir, join(dir, "bytes"));
    const plain = [realWorker(endpoint), realWorker(endpoint)];
    assert.equal((await finished(bytesRun)).code, 0);
    plain.forEach(kill);
    // Then names: both workers see the temp folder as the shared mount.
    endpoint = freeEndpoint();
    const server = serveTo(endpoint, dir, join(dir, "out"), ["--shared-fs"]);
    const workers = [sharedWorker(endpoint, [dir]), sharedWorker(endpoint, [dir])];
    const result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    for (const w of workers) assert.equal((await finished(w, 15_000)).code, 0);
    assert.equal(result.stderr.match(/sees the shared file system: it gets paths/g)?.length, 2);
    // The server sent no payload: it read no input (beyond the probe's 64 KiB).
    assert.match(result.stderr, /payload window: at most 0 image payload/);
    assert.doesNotMatch(result.stderr, /warn|probe \(/i);
    const report = await readReport(dir);
    assert.equal(report.processed, inputNames.length);
    assert.equal(report.workers.length, 2);
    const outputs = await names(join(dir, "out"));
    // Nothing else left in the output folder: the probe's token file is gone.
    assert.deepEqual(outputs, await names(join(dir, "bytes")));
    assert.equal(outputs.length, inputNames.length);
    for (const name of outputs) {
      assert.deepEqual(
        await Deno.readFile(join(dir, "out", name)),
        await Deno.readFile(join(dir, "bytes", name)),
        `${name} differs from the bytes path's`,
      );
    }
  });
});

Deno.test("a worker whose --shared-fs folders miss the job's folders gets bytes; without serve --shared-fs, so does every worker", async () => {
  await withTempDir(async (dir) => {
    await inputs(dir, 3);
    const elsewhere = join(dir, "elsewhere");
    await Deno.mkdir(elsewhere);
    let endpoint = freeEndpoint();
    let server = serveTo(endpoint, dir, join(dir, "out"), ["--shared-fs"]);
    let worker = sharedWorker(endpoint, [elsewhere]);
    let result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    await finished(worker, 15_000);
    assert.match(result.stderr, /--shared-fs folders miss .*: bytes/);
    assert.doesNotMatch(result.stderr, /gets paths/);
    assert.equal((await names(join(dir, "out"))).length, 3);
    // A worker that names the right folder, but the server did not opt in: bytes, quietly.
    endpoint = freeEndpoint();
    server = serveTo(endpoint, dir, join(dir, "out2"));
    worker = sharedWorker(endpoint, [dir]);
    result = await finished(server);
    assert.equal(result.code, 0, result.stderr);
    await finished(worker, 15_000);
    assert.doesNotMatch(result.stderr, /gets paths|probe/);
    assert.match(result.stderr, /payload window: at most [1-9]/);
  });
});

Deno.test("a peer that answers the probe wrong (or not at all) gets bytes, and one warning names it", async () => {
  await withTempDir(async (dir) => {
    await inputs(dir, 2);
    const endpoint = freeEndpoint();
    const server = serveTo(endpoint, dir, join(dir, "out"), ["--shared-fs"]);
    const peers = [new RawPeer(endpoint, "liar-1"), new RawPeer(endpoint, "mute-2")];
    try {
      for (const [i, peer] of peers.entries()) {
        const proof = await proofFor(await joinShared(peer, dir));
        await peer.send({
          type: "ready",
          ...(i === 0 ? { probe: { ...proof, token: "guess" } } : {}),
        });
        const { message, payload } = await peer.next();
        const task = message as TaskMessage;
        assert.equal(task.type, "task");
        assert.equal(task.input, null, "bytes, not a path");
        assert.ok(payload && payload.length > 0);
        await peer.answer(task, payload, "jpeg", false); // an input is a valid output of itself
      }
      const result = await finished(server);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /liar-1: wrong answer to the --shared-fs probe.*it gets bytes/);
      assert.match(result.stderr, /mute-2: no answer to the --shared-fs probe.*it gets bytes/);
      assert.equal(result.stderr.match(/--shared-fs probe/g)?.length, 2);
    } finally {
      peers.forEach((p) => p.close());
      kill(server);
    }
  });
});

Deno.test("a peer that passes the probe, then says ok for a path task it never wrote: the image fails, not counted", async () => {
  await withTempDir(async (dir) => {
    await inputs(dir, 1);
    const endpoint = freeEndpoint();
    const server = serveTo(endpoint, dir, join(dir, "out"), ["--shared-fs"]);
    const peer = new RawPeer(endpoint, "claims-ok");
    try {
      await peer.send({ type: "ready", probe: await proofFor(await joinShared(peer, dir)) });
      const task = (await peer.next()).message as TaskMessage;
      assert.equal(task.input, join(dir, "in", "sample001.jpg"), "a path, not bytes");
      assert.equal(task.output, join(dir, "out", "sample001.jpg"));
      await peer.send(doneResult(task, 1234, "jpeg", false));
      const result = await finished(server);
      assert.equal(result.code, EXIT.someFailed, result.stderr);
      assert.match(
        result.stderr,
        /the worker says it wrote sample001\.jpg .*the server sees no such file/,
      );
      const report = await readReport(dir);
      assert.equal(report.processed, 0);
      assert.equal(report.failed.length, 1);
    } finally {
      peer.close();
      kill(server);
    }
  });
});

Deno.test("a server that names paths outside the worker's --shared-fs folders gets error results; nothing is read or written", async () => {
  await withTempDir(async (dir) => {
    const shared = join(dir, "shared"), secret = join(dir, "secret");
    await inputs(shared, 1); // shared/in/sample001.jpg
    await inputs(secret, 1); // secret/in/sample001.jpg: the worker may read it, but it is not shared
    await Deno.mkdir(join(shared, "out"));
    await Deno.symlink(join(secret, "in"), join(shared, "link"));
    const server = await TestServer.open(dir);
    // Its sandbox would let it read `secret`: its folders are what keep it out.
    const worker = sharedWorker(server.endpoint, [shared], [secret]);
    try {
      const { id, message: join_ } = await server.expect("join");
      assert.deepEqual(join_.sharedFs, [shared]);
      // A probe that points outside: no proof, and the worker says why.
      const outside = join(secret, "in", "sample001.jpg");
      await server.send(id, {
        type: "hello",
        worker: id,
        pipeline: PIPELINE,
        probe: { token: outside, input: outside },
      });
      const ready = await server.expect("ready");
      assert.equal(ready.message.probe, undefined);
      const tasks: [string, string][] = [
        [outside, join(shared, "out", "a.jpg")], // input outside
        [
          join(shared, "in", "..", "..", "secret", "in", "sample001.jpg"),
          join(shared, "out", "b.jpg"),
        ],
        [join(shared, "link", "sample001.jpg"), join(shared, "out", "c.jpg")], // a symlink out
        [join(shared, "in", "sample001.jpg"), join(secret, "out.jpg")], // output outside
        [join(shared, "in", "sample001.jpg"), join(shared, "link", "d.jpg")], // output through the link
        ["in/sample001.jpg", join(shared, "out", "e.jpg")], // relative
      ];
      for (const [n, [input, output]] of tasks.entries()) {
        await pathTask(server, id, n, input, output);
        const message = await resultOf(server);
        assert.equal(message.ok, false, `${input} → ${output}`);
        assert.match(
          message.ok ? "" : message.error,
          /outside this worker's --shared-fs folders: not read/,
        );
      }
      // And a path inside works: the worker does it (the control).
      const good = join(shared, "out", "ok.jpg");
      await pathTask(server, id, 99, join(shared, "in", "sample001.jpg"), good);
      const message = await resultOf(server);
      assert.equal(message.ok, true, JSON.stringify(message));
      assert.deepEqual(await names(join(shared, "out")), ["ok.jpg"]);
      assert.deepEqual(await names(secret), ["in"]);
      await server.broadcast({ type: "quit" });
      assert.equal((await finished(worker, 15_000)).code, 0);
    } finally {
      kill(worker);
      server.close();
    }
  });
});

Deno.test("--shared-fs flags: a missing folder, a file, no permission, on parallel, on a local worker: clear errors", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file.txt");
    await Deno.writeTextFile(file, "x");
    const endpoint = "tcp://127.0.0.1:1";
    const cases: [string[], readonly string[], RegExp][] = [
      [
        ["--shared-fs", join(dir, "nope")],
        sharedFlags([dir]),
        /--shared-fs .*nope: no such folder/,
      ],
      [["--shared-fs", file], sharedFlags([dir]), /--shared-fs .*file\.txt: not a folder/],
      [
        ["--shared-fs", dir],
        WORKER_FLAGS,
        /may not read or write it; add it to Deno's flags: --allow-read=\.\.\.,.* --allow-write=/,
      ],
      [["--shared-fs", ""], sharedFlags([dir]), /--shared-fs needs a folder/],
      [["--shared-fs", dir, "--local"], sharedFlags([dir]), /--shared-fs is for remote workers/],
    ];
    for (const [args, flags, expected] of cases) {
      const out = await finished(
        spawnZpix(["worker", "--connect", endpoint, ...args], { flags }),
        30_000,
      );
      assert.equal(out.code, EXIT.usage, out.stderr);
      assert.match(out.stderr, expected);
    }
    const parallel = await spawnZpix(["parallel", "-i", dir, "-o", join(dir, "o"), "--shared-fs"])
      .output;
    assert.equal(parallel.code, EXIT.usage);
    assert.match(parallel.stderr, /--shared-fs is not an option of parallel/);
  });
});

Deno.test("SIGTERM on a worker busy with a path task: it writes the whole output, answers more:false, leaves, exits 0", async () => {
  await withTempDir(async (dir) => {
    const shared = join(dir, "shared");
    await Deno.mkdir(join(shared, "out"), { recursive: true });
    const input = join(shared, "quad_baseline.jpg");
    await Deno.copyFile(join(SOURCE_ROOT, "tests/fixtures/quad_baseline.jpg"), input);
    const server = await TestServer.open(dir);
    const worker = sharedWorker(server.endpoint, [shared]);
    try {
      const { id } = await server.expect("join");
      // A slow task: a small image made 2500x2500 and encoded with MozJPEG.
      const steps: Step[] = [{ op: "resize", width: 2500, height: 2500, fit: "fill" }];
      const pipeline: Pipeline = {
        ...PIPELINE,
        steps,
        format: "jpeg",
        quality: 90,
        encoder: "mozjpeg",
      };
      await server.send(id, { type: "hello", worker: id, pipeline });
      await server.expect("ready");
      const output = join(shared, "out", "big.jpg");
      await pathTask(server, id, 0, input, output);
      assert.equal((await server.expect("ready")).message.finishing, 0, "it asks ahead");
      worker.child.kill("SIGTERM");
      const { message: result } = await server.expect("result", 60_000);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.more, false, "the result says no more tasks");
      const written = await Deno.readFile(output);
      assert.equal(written.length, result.bytes, "the whole output, written before the result");
      assert.deepEqual([...written.subarray(0, 2), ...written.subarray(-2)], [
        0xff,
        0xd8,
        0xff,
        0xd9,
      ]);
      assert.deepEqual(await names(join(shared, "out")), ["big.jpg"], "no temporary file left");
      await server.expect("leave");
      assert.equal((await finished(worker, 15_000)).code, 0);
    } finally {
      kill(worker);
      server.close();
    }
  });
});

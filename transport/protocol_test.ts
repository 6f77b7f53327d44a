/**
 * Tests of the wire protocol: every message survives encode/decode, payload
 * frames travel beside the header, other versions and unknown types are
 * refused, broadcast endpoints are derived correctly; and the socket
 * helpers (receiveAll, Outbox) move real frames over real ZeroMQ sockets.
 */

import assert from "node:assert/strict";
import * as zmq from "./zmq.ts";
import {
  type Broadcast,
  broadcastEndpoint,
  decodeBroadcast,
  decodeServerMessage,
  decodeWorkerMessage,
  encodeBroadcast,
  encodeMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  type ServerMessage,
  type WorkerMessage,
} from "./protocol.ts";
import { Outbox, receiveAll, SOCKET_OPTIONS } from "./socket_io.ts";
import { nextWithin, sleep, withTempDir } from "../tests/helpers.ts";

const timings = { read: 1, decode: 2, ops: 3, steps: { "gray": 3 }, encode: 4, write: 5 };

const WORKER_MESSAGES: WorkerMessage[] = [
  { type: "join", pid: 42, host: "box", local: true, token: null },
  { type: "join", pid: 43, host: "far", local: false, token: "s3cret" },
  { type: "ready" },
  {
    type: "result",
    task: 3,
    attempt: 1,
    more: true,
    ok: true,
    width: 512,
    height: 384,
    bytes: 1234,
    warnings: ["truncated"],
    timings,
    format: "jpeg",
  },
  { type: "result", task: 4, attempt: 2, more: false, ok: false, error: "not a JPEG" },
  { type: "heartbeat" },
  { type: "leave" },
];

const SERVER_MESSAGES: ServerMessage[] = [
  {
    type: "hello",
    worker: "w1",
    pipeline: {
      steps: [{ op: "resize", width: 512, height: 512, fit: "fill" }, { op: "to_gray" }],
      format: "same",
      quality: 85,
      encoder: "fast",
      maxPixels: 1000,
    },
  },
  { type: "refused", reason: "wrong token" },
  { type: "task", task: 0, attempt: 1, name: "a.jpg", input: "/in/a.jpg", output: "/out/a.jpg" },
  { type: "task", task: 1, attempt: 3, name: "b.png", input: null, output: null },
  {
    type: "hello",
    worker: "w2",
    pipeline: {
      steps: [],
      format: "webp",
      quality: 75,
      encoder: "fast",
      maxPixels: 1000,
      keepIcc: true,
      keepMetadata: true,
    },
  },
];

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("every worker message survives encode/decode, with its version", () => {
  for (const message of WORKER_MESSAGES) {
    const frames = encodeMessage(message);
    assert.equal(frames.length, 1);
    assert.equal(JSON.parse(text(frames[0])).v, PROTOCOL_VERSION);
    assert.deepEqual(decodeWorkerMessage(frames), { message, payload: null });
  }
});

Deno.test("every server message and broadcast survives encode/decode", () => {
  for (const message of SERVER_MESSAGES) {
    assert.deepEqual(decodeServerMessage(encodeMessage(message)), { message, payload: null });
  }
  for (const message of [{ type: "quit" }, { type: "heartbeat" }] as Broadcast[]) {
    const frames = encodeBroadcast(message);
    assert.equal(text(frames[0]), message.type, "the topic frame is the type");
    assert.deepEqual(decodeBroadcast(frames), message);
  }
});

Deno.test("a payload travels as a second frame, byte for byte", () => {
  const payload = new Uint8Array([0xff, 0xd8, 0, 1, 2, 0xff, 0xd9]);
  const task = SERVER_MESSAGES[3];
  const frames = encodeMessage(task, payload);
  assert.equal(frames.length, 2);
  const decoded = decodeServerMessage(frames);
  assert.deepEqual(decoded.message, task);
  assert.deepEqual(decoded.payload, payload);
  const result = decodeWorkerMessage(encodeMessage(WORKER_MESSAGES[3], payload));
  assert.deepEqual(result.payload, payload);
});

Deno.test("a batch: one message for several tasks or outcomes, their payloads as frames in order", () => {
  const one = new Uint8Array([1]), two = new Uint8Array([2, 2]);
  const tasks: ServerMessage = {
    type: "tasks",
    tasks: [
      { task: 5, attempt: 1, name: "a.jpg", input: null, output: null },
      { task: 6, attempt: 2, name: "b.jpg", input: null, output: null },
    ],
  };
  const granted = decodeServerMessage(encodeMessage(tasks, [one, two]));
  assert.deepEqual(granted, { message: tasks, payload: one, payloads: [one, two] });
  assert.deepEqual(
    decodeServerMessage(encodeMessage(tasks)).payloads,
    [],
    "local: paths, no bytes",
  );
  const [done, failed] = [WORKER_MESSAGES[3], WORKER_MESSAGES[4]].map((m) => {
    const { type: _type, more: _more, ...entry } = m as Extract<WorkerMessage, { type: "result" }>;
    return entry;
  });
  const results: WorkerMessage = { type: "results", results: [failed, done], want: 3, cpu: 7 };
  // One frame a success: the failure carries none.
  assert.deepEqual(decodeWorkerMessage(encodeMessage(results, [two])).payloads, [two]);
  assert.deepEqual(decodeWorkerMessage(encodeMessage(results)).message, results);
  for (
    const [frames, decode] of [
      [encodeMessage(results, [one, two]), decodeWorkerMessage],
      [encodeMessage(tasks, [one]), decodeServerMessage],
    ] as const
  ) {
    assert.throws(() => decode(frames), /payload frames must be none or/);
  }
  assert.deepEqual(decodeWorkerMessage(encodeMessage({ type: "ready", want: 8 })).message, {
    type: "ready",
    want: 8,
  });
});

Deno.test("another protocol version is refused with a ProtocolError", () => {
  for (const v of [PROTOCOL_VERSION + 1, 0, "1", undefined]) {
    assert.throws(
      () => decodeWorkerMessage([bytes({ v, type: "ready" })]),
      (error: Error) => error instanceof ProtocolError && /protocol version/.test(error.message),
    );
  }
});

Deno.test("unknown types, wrong directions and malformed frames are ProtocolErrors", () => {
  const bad: [Uint8Array[], RegExp, (f: Uint8Array[]) => unknown][] = [
    [
      [bytes({ v: PROTOCOL_VERSION, type: "explode" })],
      /unexpected message type/,
      decodeWorkerMessage,
    ],
    // A server message arriving at the server, a worker message at a worker.
    [encodeMessage(SERVER_MESSAGES[2]), /unexpected message type "task"/, decodeWorkerMessage],
    [encodeMessage({ type: "ready" }), /unexpected message type "ready"/, decodeServerMessage],
    [[bytes({ v: PROTOCOL_VERSION })], /unexpected message type/, decodeWorkerMessage],
    [[new TextEncoder().encode("{not json")], /not JSON/, decodeWorkerMessage],
    [[bytes(null)], /not an object/, decodeWorkerMessage],
    [[], /expected 1 to 65 frames, got 0/, decodeWorkerMessage],
    [Array.from({ length: 66 }, () => bytes({})), /got 66/, decodeWorkerMessage],
    // Payload frames: at most one for a single message, none or one an entry for a batch.
    [[...encodeMessage({ type: "ready" }), bytes({}), bytes({})], /payload/, decodeWorkerMessage],
    [[bytes("quit"), ...encodeMessage({ type: "ready" })], /unexpected/, decodeBroadcast],
  ];
  for (const [frames, pattern, decode] of bad) {
    assert.throws(
      () => decode(frames),
      (error: Error) => error instanceof ProtocolError && pattern.test(error.message),
      `${pattern}`,
    );
  }
});

Deno.test("broadcastEndpoint: next TCP port, or the ipc path with .pub", () => {
  assert.equal(broadcastEndpoint("tcp://127.0.0.1:5555"), "tcp://127.0.0.1:5556");
  assert.equal(broadcastEndpoint("tcp://*:7000"), "tcp://*:7001");
  assert.equal(broadcastEndpoint("tcp://host.example:65000"), "tcp://host.example:65001");
  assert.equal(broadcastEndpoint("ipc:///tmp/zpix-1/tasks"), "ipc:///tmp/zpix-1/tasks.pub");
  for (const bad of ["udp://x:1", "tcp://nohost", "inproc://x"]) {
    assert.throws(() => broadcastEndpoint(bad), ProtocolError);
  }
});

Deno.test("receiveAll and Outbox carry frames both ways between ROUTER and DEALER over ipc", async () => {
  await withTempDir(async (dir) => {
    const endpoint = `ipc://${dir}/tasks`;
    const router = new zmq.Router(SOCKET_OPTIONS);
    const dealer = new zmq.Dealer({ ...SOCKET_OPTIONS, routingId: "w7" });
    try {
      await router.bind(endpoint);
      dealer.connect(endpoint);
      const atRouter = receiveAll(router);
      const atDealer = receiveAll(dealer);
      const fromDealer = new Outbox(dealer);
      const fromRouter = new Outbox(router);
      // Many sends queued at once go out in order, one at a time.
      const sent = Array.from({ length: 50 }, (_, i) =>
        fromDealer.send(encodeMessage(
          { type: "result", task: i, attempt: 1, more: true, ok: false, error: `e${i}` },
          new Uint8Array([i]),
        )));
      await Promise.all(sent);
      for (let i = 0; i < 50; i++) {
        const [identity, ...frames] = await nextWithin(atRouter, 5000);
        assert.equal(text(identity), "w7");
        const { message, payload } = decodeWorkerMessage(frames);
        assert.equal(message.type === "result" && message.task, i);
        assert.deepEqual(payload, new Uint8Array([i]));
      }
      await fromRouter.send([new TextEncoder().encode("w7"), ...encodeMessage(SERVER_MESSAGES[2])]);
      const reply = await nextWithin(atDealer, 5000);
      assert.deepEqual(decodeServerMessage(reply).message, SERVER_MESSAGES[2]);
      // receiveAll ends when its socket closes.
      const pending = atRouter.next();
      router.close();
      assert.equal((await pending).done, true);
    } finally {
      router.close();
      dealer.close();
    }
  });
});

Deno.test("a broadcast published through an Outbox reaches a SUB over ipc", async () => {
  await withTempDir(async (dir) => {
    const endpoint = broadcastEndpoint(`ipc://${dir}/tasks`);
    const publisher = new zmq.Publisher(SOCKET_OPTIONS);
    const subscriber = new zmq.Subscriber(SOCKET_OPTIONS);
    try {
      await publisher.bind(endpoint);
      subscriber.connect(endpoint);
      subscriber.subscribe();
      const incoming = receiveAll(subscriber);
      const outbox = new Outbox(publisher);
      const received = nextWithin(incoming, 5000, "quit");
      // PUB drops messages until the SUB has joined: publish until one arrives.
      let arrived = false;
      void received.then(() => arrived = true, () => arrived = true);
      while (!arrived) {
        await outbox.send(encodeBroadcast({ type: "quit" }));
        await sleep(20);
      }
      assert.deepEqual(decodeBroadcast(await received), { type: "quit" });
    } finally {
      publisher.close();
      subscriber.close();
    }
  });
});

Deno.test("Outbox reports a failed send to onError instead of throwing", async () => {
  const errors: unknown[] = [];
  const broken = {
    closed: false,
    trySend: (): boolean => {
      throw Object.assign(new Error("boom"), { code: "EFAULT" });
    },
  };
  const outbox = new Outbox(broken, (error) => errors.push(error));
  await outbox.send([new Uint8Array([1])]);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, "boom");
  // A later send still goes through the chain.
  await outbox.send([new Uint8Array([2])]);
  assert.equal(errors.length, 2);
});

Deno.test("a result's optional cpu (the worker's process CPU ms) is checked where it is decoded", () => {
  const result = { type: "result", task: 3, attempt: 1, more: true, ok: false, error: "x" };
  for (const cpu of [0, 1234.5]) {
    const { message } = decodeWorkerMessage([bytes({ v: PROTOCOL_VERSION, ...result, cpu })]);
    assert.equal(message.type === "result" && message.cpu, cpu);
  }
  const without = decodeWorkerMessage([bytes({ v: PROTOCOL_VERSION, ...result })]).message;
  assert.ok(without.type === "result" && without.cpu === undefined);
  for (const cpu of [-1, "12", null, 1e400, {}]) {
    assert.throws(
      () => decodeWorkerMessage([bytes({ v: PROTOCOL_VERSION, ...result, cpu })]),
      (error: Error) => error instanceof ProtocolError && /cpu/.test(error.message),
      JSON.stringify(cpu),
    );
  }
});

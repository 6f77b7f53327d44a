/**
 * Tests of the message schema: every mistyped field is a ProtocolError at
 * decode time, unknown fields are dropped, and peer-chosen text is printable.
 */

import assert from "node:assert/strict";
import { decodeServerMessage, decodeWorkerMessage, ProtocolError } from "./protocol.ts";
import { MAX_TEXT, printable } from "./schema.ts";

const frame = (value: unknown) => [new TextEncoder().encode(JSON.stringify(value))];
const timings = { read: 0, decode: 1, ops: 1, steps: { gray: 1 }, encode: 1, write: 0 };
const ok = {
  v: 1,
  type: "result",
  task: 0,
  attempt: 1,
  more: true,
  ok: true,
  width: 1,
  height: 1,
  bytes: 1,
  warnings: [],
  timings,
  format: "jpeg",
};

Deno.test("schema: mistyped worker messages are ProtocolErrors", () => {
  const bad: unknown[] = [
    { ...ok, timings: undefined },
    { ...ok, warnings: "x" },
    { ...ok, warnings: [1] },
    { ...ok, timings: { ...timings, decode: "1" } },
    { ...ok, timings: { ...timings, steps: { a: Infinity } } },
    { ...ok, timings: { ...timings, steps: JSON.parse('{"__proto__": 1}') } },
    { ...ok, timings: { ...timings, steps: { constructor: 1 } } },
    { ...ok, width: -1 },
    { ...ok, task: 1.5 },
    { ...ok, attempt: 0 },
    { ...ok, format: "gif" },
    { ...ok, ok: "yes" },
    { ...ok, more: 1 },
    { v: 1, type: "result", task: 0, attempt: 1, more: true, ok: false, error: {} },
    { v: 1, type: "join", pid: "1", host: "h", local: false, token: null },
    { v: 1, type: "join", pid: 1, host: "h".repeat(300), local: false, token: null },
    { v: 1, type: "join", pid: 1, host: "h", local: "yes", token: null },
    { v: 1, type: "join", pid: 1, host: "h", local: false, token: 5 },
    { v: 1, type: "ready", finishing: "3" },
    // Batches: a hostile peer asks for 10^9 tasks, sends a thousand entries (a million do not fit a header), or one task twice.
    { v: 1, type: "ready", want: 1e9 },
    { v: 1, type: "ready", want: 0 },
    { v: 1, type: "results", results: [{ ...ok, v: undefined }], want: 65 },
    { v: 1, type: "results", results: [], want: 1 },
    { v: 1, type: "results", results: Array.from({ length: 1000 }, () => ok), want: 1 },
    { v: 1, type: "results", results: [ok, { ...ok, ok: false, error: "x" }], want: 1 },
    { v: 1, type: "results", results: [{ ...ok, width: -1 }], want: 1 },
    { v: 1, type: "results", results: [null], want: 1 },
    { v: 1, type: "results", results: ok, want: 1 },
    [1, 2],
    null,
  ];
  for (const message of bad) {
    assert.throws(
      () => decodeWorkerMessage(frame(message)),
      ProtocolError,
      JSON.stringify(message),
    );
  }
  assert.throws(
    () => decodeServerMessage(frame({ v: 1, type: "task", task: 0, attempt: 1, name: 3 })),
    ProtocolError,
  );
});

Deno.test("schema: a hello's optional keepIcc and keepMetadata must be booleans", () => {
  const pipeline = { steps: [], format: "jpeg", quality: 75, encoder: "fast", maxPixels: 10 };
  const hello = (extra: Record<string, unknown>) =>
    frame({ v: 1, type: "hello", worker: "w", pipeline: { ...pipeline, ...extra } });
  for (const extra of [{ keepMetadata: "yes" }, { keepMetadata: 1 }, { keepIcc: null }]) {
    assert.throws(() => decodeServerMessage(hello(extra)), ProtocolError, JSON.stringify(extra));
  }
  const { message } = decodeServerMessage(hello({ keepMetadata: true }));
  assert.equal((message as { pipeline: { keepMetadata: boolean } }).pipeline.keepMetadata, true);
});

Deno.test("schema: a valid message is rebuilt from its own fields, text made printable", () => {
  const { message } = decodeWorkerMessage(
    frame({ ...ok, evil: "x".repeat(100), warnings: ["a\nb\u001b[31m"], __proto__: 1 }),
  );
  assert.equal("evil" in message, false);
  assert.deepEqual((message as { warnings: string[] }).warnings, ["a\\u000ab\\u001b[31m"]);
  const join = decodeWorkerMessage(
    frame({ v: 1, type: "join", pid: 1, host: "h\r\nfake line", local: false, token: null }),
  ).message;
  assert.deepEqual(join, {
    type: "join",
    pid: 1,
    host: "h\\u000d\\u000afake line",
    local: false,
    token: null,
  });
});

Deno.test("schema: a worker's error is cut to MAX_TEXT characters", () => {
  const { message } = decodeWorkerMessage(frame({
    v: 1,
    type: "result",
    task: 0,
    attempt: 1,
    more: true,
    ok: false,
    error: "x".repeat(100_000),
  }));
  assert.equal((message as { error: string }).error.length, MAX_TEXT + 1);
});

Deno.test("schema: printable cuts long text and escapes controls", () => {
  assert.equal(printable("plain"), "plain");
  assert.equal(printable("a".repeat(10), 4), "aaaa…");
  assert.equal(printable("\u202eevil"), "\\u202eevil");
});

Deno.test("schema: --shared-fs fields (join's folders, hello's probe, ready's proof) are bounded and rebuilt", () => {
  const join = { v: 1, type: "join", pid: 1, host: "h", local: false, token: null };
  const folders = decodeWorkerMessage(frame({ ...join, sharedFs: ["/mnt/a", "/mnt/b"] }));
  const { v: _, ...fields } = join;
  assert.deepEqual(folders.message, { ...fields, sharedFs: ["/mnt/a", "/mnt/b"] });
  assert.equal("sharedFs" in decodeWorkerMessage(frame(join)).message, false);
  const proof = { token: "t", sha256: "0".repeat(64) };
  assert.deepEqual(
    decodeWorkerMessage(frame({ v: 1, type: "ready", probe: { ...proof, extra: 1 } })).message,
    { type: "ready", probe: proof },
  );
  const badWorker: unknown[] = [
    { ...join, sharedFs: "/mnt/a" },
    { ...join, sharedFs: [""] },
    { ...join, sharedFs: [1] },
    { ...join, sharedFs: Array(17).fill("/mnt") },
    { ...join, sharedFs: ["/" + "a".repeat(5000)] },
    { v: 1, type: "ready", probe: "x" },
    { v: 1, type: "ready", probe: { token: 1, sha256: "x" } },
    { v: 1, type: "ready", probe: { token: "x".repeat(200), sha256: "x" } },
  ];
  for (const message of badWorker) {
    assert.throws(
      () => decodeWorkerMessage(frame(message)),
      ProtocolError,
      JSON.stringify(message),
    );
  }
  const pipeline = { steps: [], format: "same", quality: 75, encoder: "fast", maxPixels: 1 };
  const hello = { v: 1, type: "hello", worker: "w", pipeline };
  const probe = { token: "/mnt/out/.probe", input: "/mnt/in/a.jpg" };
  assert.deepEqual(decodeServerMessage(frame({ ...hello, probe })).message.type, "hello");
  assert.deepEqual(
    (decodeServerMessage(frame({ ...hello, probe: { ...probe, x: 1 } })).message as {
      probe?: unknown;
    }).probe,
    probe,
  );
  for (const bad of [{ token: "/a" }, { ...probe, input: null }, [probe]]) {
    assert.throws(() => decodeServerMessage(frame({ ...hello, probe: bad })), ProtocolError);
  }
});

/**
 * Unit tests of the broker's gate: routing ids, secrets, local worker ids,
 * rate-limited printable warnings, and what a stranger or a join is told.
 */

import assert from "node:assert/strict";
import { Gate, idOf, localName, localWorkerId, PeerWarnings, sameSecret } from "./gate.ts";
import type { Log } from "../core/log.ts";

/** A Log that keeps its warnings. */
function fakeLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (line: string) => lines.push(line) } as unknown as Log & {
    lines: string[];
  };
}

Deno.test("gate: ids must be UTF-8 text of 1..255 bytes", () => {
  assert.equal(idOf(new TextEncoder().encode("host-1")), "host-1");
  assert.equal(idOf(new Uint8Array([0xff, 0xfe])), null);
  assert.equal(idOf(new Uint8Array(0)), null);
  assert.equal(idOf(new Uint8Array(256).fill(0x61)), null);
});

Deno.test("gate: local ids are unguessable, named wN", () => {
  const a = localWorkerId(1), b = localWorkerId(1);
  assert.notEqual(a, b);
  assert.match(a, /^w1\.[0-9a-f]{32}$/);
  assert.equal(localName(a), "w1");
  assert.equal(localName("plain"), "plain");
});

Deno.test("gate: secrets compare whole", () => {
  assert.ok(sameSecret("abc", "abc"));
  assert.ok(!sameSecret("abcd", "abc"));
  assert.ok(!sameSecret("ab", "abc"));
  assert.ok(!sameSecret(null, "abc"));
  assert.ok(!sameSecret("", "abc"));
});

Deno.test("gate: warnings about peers are printable and at most one a period", () => {
  const log = fakeLog();
  const warnings = new PeerWarnings(log, 60_000);
  warnings.warn("bad\nline\u001b[31m");
  for (let i = 0; i < 1000; i++) warnings.warn("again");
  assert.deepEqual(log.lines, ["bad\\u000aline\\u001b[31m"]);
  assert.equal(warnings.dropped, 1000);
});

Deno.test("gate: a stranger is ignored; a lost worker is told to rejoin; a timed-out one is refused", () => {
  const log = fakeLog();
  const gate = new Gate(log, { token: "t", taskTimeout: 5 });
  const join = { type: "join", pid: 1, host: "h", local: false } as const;
  assert.match(gate.refuseJoin("a", { ...join, token: "x" })!, /wrong or missing token/);
  assert.match(gate.refuseJoin("a", { ...join, token: null })!, /wrong or missing token/);
  assert.equal(gate.refuseJoin("a", { ...join, token: "t" }), null);
  assert.equal(gate.stranger("never", "result", 0), null);
  gate.seen.set("lost", { pid: 1, host: "h" });
  assert.deepEqual(gate.stranger("lost", "heartbeat", 0), {
    type: "refused",
    reason: "this worker was taken for lost; join again",
    rejoin: true,
  });
  assert.equal(gate.stranger("lost", "heartbeat", 500), null, "told at most once a second");
  gate.banned.add("lost");
  assert.match(gate.stranger("lost", "ready", 2000)!.reason, /--task-timeout 5s/);
  assert.match(gate.refuseJoin("lost", { ...join, token: "t" })!, /not taken back/);
});

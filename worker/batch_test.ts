/**
 * Unit tests of a batching worker's answers: when they go out (half of
 * `--batch` done, the grant in hand finished, or the timer), what a report
 * carries, and how many tasks it asks for.
 */

import assert from "node:assert/strict";
import { BatchReport, wantMore } from "./batch.ts";
import type { ResultMessage } from "../transport/protocol.ts";

const done = (task: number): ResultMessage => ({
  type: "result",
  task,
  attempt: 1,
  more: true,
  cpu: 5,
  ok: false,
  error: "x",
});

Deno.test("a report is due at half of --batch or at the end of the grant in hand, not at half of each grant", () => {
  const report = new BatchReport(16, () => {});
  try {
    assert.equal(report.due(0), false, "nothing to report");
    for (let task = 0; task < 7; task++) report.add(done(task));
    assert.equal(report.due(4), false, "7 of 16, 4 left in this grant");
    report.add(done(7));
    assert.equal(report.due(3), true, "8 = half of 16");
    const { results, payloads } = report.take();
    assert.deepEqual(results.map((r) => r.task), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(payloads, [], "local outcomes carry no bytes");
    assert.deepEqual(Object.keys(results[0]).sort(), ["attempt", "error", "ok", "task"]);
    report.add(done(8), new Uint8Array([1]));
    assert.equal(report.due(1), false);
    assert.equal(report.due(0), true, "the grant in hand is done");
    assert.deepEqual(report.take().payloads, [new Uint8Array([1])]);
  } finally {
    report.close();
  }
});

Deno.test("a grant of at most half of --batch is reported at its own half, so that the next comes meanwhile", () => {
  const report = new BatchReport(16, () => {});
  try {
    for (let task = 0; task < 2; task++) report.add(done(task));
    assert.equal(report.due(3, 5), false, "2 of a grant of 5");
    report.add(done(2));
    assert.equal(report.due(2, 5), true, "3 of a grant of 5");
    report.take();
    report.add(done(3));
    assert.equal(report.due(6, 10), false, "a grant of 10, over half of 16: at 8 or its end");
  } finally {
    report.close();
  }
});

Deno.test("outcomes kept while a slow image follows are reported by the timer", async () => {
  let late = 0;
  const report = new BatchReport(16, () => late++, 20);
  report.add(done(0));
  report.add(done(1));
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(late, 1, "once, for both");
  report.take();
  report.add(done(2));
  report.take(); // reported in time: the timer is stopped
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(late, 1);
});

Deno.test("a worker asks for the room its batch leaves, never beyond --max-tasks", () => {
  assert.equal(wantMore(16, 0, 0, 0), 16);
  assert.equal(wantMore(16, 8, 100, 0), 8);
  assert.equal(wantMore(16, 3, 5, 10), 2, "10 tasks in all: 5 done, 3 held");
  assert.equal(wantMore(16, 5, 5, 10), 0);
});

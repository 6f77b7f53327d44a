/**
 * Unit tests of the pure scheduler: one task per worker, FIFO order,
 * completion counted on results only, stale results, requeue of a lost
 * worker's task, giving up after maxAttempts, timeouts and the send gate.
 */

import assert from "node:assert/strict";
import { Scheduler } from "./scheduler.ts";

const ok = { ok: true } as const;

Deno.test("a worker holds one task at a time, handed out in FIFO order", () => {
  const s = new Scheduler([0, 1, 2, 3]);
  s.join("a", 0);
  s.join("b", 0);
  assert.deepEqual(s.ready("a", 1), { worker: "a", task: 0, attempt: 1 });
  // Asking again while holding a task gives nothing.
  assert.equal(s.ready("a", 2), null);
  assert.deepEqual(s.ready("b", 2), { worker: "b", task: 1, attempt: 1 });
  assert.equal(s.queued, 2);
  assert.equal(s.worker("a")!.task, 0);
  assert.ok(s.result("a", 0, ok, 5));
  assert.deepEqual(s.ready("a", 5), { worker: "a", task: 2, attempt: 1 });
  assert.ok(s.result("b", 1, ok, 6));
  assert.deepEqual(s.ready("b", 6), { worker: "b", task: 3, attempt: 1 });
  assert.equal(s.ready("a", 7), null, "nothing left to hand out");
});

Deno.test("completion is counted on results, never on dispatch", () => {
  const s = new Scheduler([0, 1]);
  s.join("a", 0);
  s.join("b", 0);
  s.ready("a", 0);
  s.ready("b", 0);
  assert.equal(s.queued, 0);
  assert.equal(s.finished, 0);
  assert.equal(s.done, false);
  s.result("a", 0, ok, 10);
  assert.equal(s.finished, 1);
  assert.equal(s.done, false);
  s.result("b", 1, { ok: false, error: "bad" }, 20);
  assert.equal(s.done, true);
  assert.deepEqual(s.ended.get(1), { ok: false, error: "bad" });
  const a = s.worker("a")!;
  assert.equal(a.processed, 1);
  assert.equal(a.failed, 0);
  assert.equal(a.busyMs, 10);
  assert.deepEqual(a.spans, [{ task: 0, start: 0, end: 10, ok: true }]);
  assert.equal(s.worker("b")!.failed, 1);
});

Deno.test("stale results (a task the worker no longer holds) change nothing", () => {
  const s = new Scheduler([0, 1]);
  s.join("a", 0);
  s.join("b", 0);
  s.ready("a", 0);
  assert.equal(s.result("a", 1, ok, 1), false, "a result for a task never given");
  assert.equal(s.result("nobody", 0, ok, 1), false, "a result from an unknown worker");
  // a is lost; its task 0 goes to b, then a's late result arrives.
  s.lost("a", 2, "worker silent");
  assert.deepEqual(s.ready("b", 3), { worker: "b", task: 0, attempt: 2 });
  assert.equal(s.result("a", 0, ok, 4), false);
  assert.equal(s.finished, 0);
  assert.ok(s.result("b", 0, ok, 5));
  assert.equal(s.result("b", 0, ok, 6), false, "a duplicate result");
  assert.equal(s.finished, 1);
});

Deno.test("a lost worker's task is requeued at the front", () => {
  const s = new Scheduler([0, 1, 2, 3]);
  s.join("a", 0);
  s.join("b", 0);
  s.ready("a", 0); // 0
  s.ready("b", 0); // 1
  assert.deepEqual(s.lost("a", 5, "worker process exited with code 1"), []);
  assert.equal(s.worker("a"), undefined, "gone workers are not present");
  assert.equal(s.workers.find((w) => w.id === "a")!.left, 5);
  assert.deepEqual(s.workers.find((w) => w.id === "a")!.spans, [
    { task: 0, start: 0, end: 5, ok: null },
  ]);
  s.result("b", 1, ok, 6);
  assert.deepEqual(s.ready("b", 6), { worker: "b", task: 0, attempt: 2 });
  assert.equal(s.attempts(0), 2);
  // A worker coming back under the same id starts afresh, keeping its spans.
  s.join("a", 7);
  assert.deepEqual(s.ready("a", 7), { worker: "a", task: 2, attempt: 1 });
  assert.equal(s.workers.find((w) => w.id === "a")!.spans.length, 1);
  assert.deepEqual(s.lost("a", 8, "x"), []);
  assert.deepEqual(s.lost("a", 9, "x"), [], "losing a gone worker is harmless");
});

Deno.test("a task is failed after maxAttempts lost workers", () => {
  const s = new Scheduler([7], { maxAttempts: 2 });
  s.join("a", 0);
  s.ready("a", 0);
  assert.deepEqual(s.lost("a", 1, "worker crashed"), []);
  s.join("b", 1);
  assert.deepEqual(s.ready("b", 1), { worker: "b", task: 7, attempt: 2 });
  assert.deepEqual(s.lost("b", 2, "worker crashed"), [7]);
  assert.equal(s.done, true);
  const end = s.ended.get(7)!;
  assert.equal(end.ok, false);
  assert.match(!end.ok ? end.error : "", /worker crashed on each of 2 attempts/);
  assert.equal(s.queued, 0);
});

Deno.test("overdue() lists present workers whose task ran past the timeout", () => {
  const s = new Scheduler([0, 1, 2]);
  s.join("a", 0);
  s.join("b", 0);
  s.join("c", 0);
  s.ready("a", 0);
  s.ready("b", 50);
  assert.deepEqual(s.overdue(100, 100), []);
  assert.deepEqual(s.overdue(101, 100).map((w) => w.id), ["a"]);
  assert.deepEqual(s.overdue(151, 100).map((w) => w.id), ["a", "b"]);
  s.lost("a", 160, "timeout");
  assert.deepEqual(s.overdue(1000, 100).map((w) => w.id), ["b"], "c holds no task; a is gone");
});

Deno.test("dispatch() hands requeued tasks to workers that are waiting", () => {
  const s = new Scheduler([0, 1]);
  s.join("a", 0);
  s.join("b", 0);
  s.join("c", 0);
  s.ready("a", 0);
  s.ready("b", 0);
  assert.equal(s.ready("c", 0), null, "c waits: queue empty");
  assert.deepEqual(s.dispatch(1), [], "nothing queued yet");
  s.lost("a", 2, "silent");
  assert.deepEqual(s.dispatch(3), [{ worker: "c", task: 0, attempt: 2 }]);
  assert.deepEqual(s.dispatch(4), [], "c is no longer waiting");
  // b never asked again: it does not get work from dispatch.
  s.result("b", 1, ok, 5);
  assert.equal(s.worker("b")!.waiting, false);
});

Deno.test("canAssign gates assignment until dispatch() is called again", () => {
  let open = false;
  const s = new Scheduler([0, 1], { canAssign: (id) => id === "local" || open });
  s.join("remote", 0);
  s.join("local", 0);
  assert.equal(s.ready("remote", 0), null);
  assert.equal(s.worker("remote")!.waiting, true);
  assert.deepEqual(s.ready("local", 0), { worker: "local", task: 0, attempt: 1 });
  assert.deepEqual(s.dispatch(1), []);
  open = true;
  assert.deepEqual(s.dispatch(2), [{ worker: "remote", task: 1, attempt: 1 }]);
});

Deno.test("weights: canAssign is asked about the next task; held tasks' weights are released by results and losses", () => {
  const asked: number[] = [];
  const s = new Scheduler([0, 1, 2, 3, 4, 5, 6, 7], {
    canAssign: (_id, task) => {
      asked.push(task);
      return true;
    },
    batch: 4,
    weigh: (_id, task) => 10 * (task + 1),
  });
  s.join("a", 0);
  s.join("b", 0);
  assert.deepEqual(s.request("a", 0, 2).map((x) => x.task), [0, 1]);
  assert.deepEqual(asked, [0, 1]);
  assert.equal(s.heldWeight, 10 + 20);
  assert.deepEqual(s.request("b", 0, 2).map((x) => x.task), [2, 3]);
  assert.equal(s.heldWeight, 100);
  s.results("a", [{ task: 0, attempt: 1, end: { ok: true } }], 1);
  assert.equal(s.heldWeight, 90);
  s.lost("b", 2, "gone");
  assert.equal(s.heldWeight, 20, "a lost worker's tasks weigh nothing any more");
  s.result("a", 1, { ok: true }, 3);
  assert.equal(s.heldWeight, 0);
});

Deno.test("weights: a grant stops at window / (2 × workers); a worker holding window / workers gets none", () => {
  // 40 tasks of 10 each, a window of 100, 2 workers: grants of at most 25 (3 tasks), holdings of 50.
  const s = new Scheduler([...Array(40).keys()], { batch: 16, weigh: () => 10, window: 100 });
  s.join("a", 0);
  s.join("b", 0);
  assert.deepEqual(s.request("a", 0, 16).map((x) => x.task), [0, 1, 2]);
  assert.deepEqual(s.request("a", 0, 13).map((x) => x.task), [3, 4], "then a holds 50");
  assert.equal(s.request("a", 0, 10).length, 0, "a holds 50 of 100: its share");
  assert.equal(s.request("b", 0, 16).length, 3, "b is not kept waiting by a's batches");
  s.results("a", [0, 1, 2].map((task) => ({ task, attempt: 1, end: { ok: true } as const })), 1);
  assert.deepEqual(s.dispatch(2).map((x) => `${x.worker}${x.task}`), [
    "a8",
    "a9",
    "a10",
    "b11",
    "b12",
  ]);
});

Deno.test("joining twice is harmless and an empty run is done at once", () => {
  const s = new Scheduler([0]);
  s.join("a", 0);
  s.ready("a", 1);
  s.join("a", 2);
  assert.equal(s.worker("a")!.task, 0);
  assert.equal(s.workers.length, 1);
  const empty = new Scheduler([]);
  assert.equal(empty.done, true);
  assert.equal(empty.total, 0);
});

Deno.test("prefetch: a worker holds its task plus N more; results free room in order; a lost worker's unstarted tasks keep their attempts", () => {
  const s = new Scheduler([1, 2, 3, 4, 5], { prefetch: 1 });
  s.join("a", 0);
  assert.deepEqual(s.ready("a", 0), { worker: "a", task: 1, attempt: 1 });
  assert.deepEqual(s.dispatch(0), [{ worker: "a", task: 2, attempt: 1 }]);
  assert.deepEqual(s.dispatch(0), [], "capacity is 1 + prefetch");
  assert.equal(s.worker("a")!.task, 1);
  assert.deepEqual(s.worker("a")!.held, [1, 2]);
  assert.ok(s.result("a", 1, { ok: true }, 10));
  // The prefetched task starts when the one before it ends.
  assert.equal(s.worker("a")!.task, 2);
  assert.equal(s.worker("a")!.taskSince, 10);
  assert.deepEqual(s.ready("a", 10), { worker: "a", task: 3, attempt: 1 });
  assert.deepEqual(s.worker("a")!.spans, [{ task: 1, start: 0, end: 10, ok: true }]);
  // Lost while on 2 with 3 prefetched: 2 used an attempt, 3 did not.
  assert.deepEqual(s.lost("a", 15, "worker crashed"), []);
  assert.equal(s.attempts(2), 1);
  assert.equal(s.attempts(3), 0);
  s.join("b", 20);
  assert.deepEqual(s.ready("b", 20), { worker: "b", task: 2, attempt: 2 });
  assert.deepEqual(s.dispatch(20), [{ worker: "b", task: 3, attempt: 1 }]);
});

Deno.test("asking ahead: one more task while the output is written; lost, the unstarted one keeps its attempts", () => {
  const s = new Scheduler([1, 2, 3, 4]);
  s.join("a", 0);
  assert.deepEqual(s.ready("a", 0), { worker: "a", task: 1, attempt: 1 });
  assert.equal(s.ready("a", 1), null, "a plain ask while holding gives nothing");
  assert.deepEqual(s.ready("a", 5, true), { worker: "a", task: 2, attempt: 1 });
  assert.equal(s.ready("a", 5, true), null, "one ahead at most");
  assert.deepEqual(s.worker("a")!.held, [1, 2]);
  // The result of 1 (more: false) makes 2 the current task, timed from then.
  assert.ok(s.result("a", 1, ok, 6));
  assert.equal(s.worker("a")!.task, 2);
  assert.equal(s.worker("a")!.taskSince, 6);
  assert.deepEqual(s.ready("a", 9, true), { worker: "a", task: 3, attempt: 1 });
  // Lost while writing 2 with 3 handed out: 2 used an attempt, 3 did not and goes back first.
  assert.deepEqual(s.lost("a", 10, "worker crashed"), []);
  assert.equal(s.attempts(2), 1);
  assert.equal(s.attempts(3), 0);
  s.join("b", 11);
  assert.deepEqual(s.ready("b", 11), { worker: "b", task: 2, attempt: 2 });
  assert.ok(s.result("b", 2, ok, 12));
  assert.deepEqual(s.ready("b", 12), { worker: "b", task: 3, attempt: 1 });
});

Deno.test("a worker that died holding a finished task and the next one died on the next one", () => {
  const s = new Scheduler([1, 2, 3], { maxAttempts: 2, prefetch: 1 });
  s.join("a", 0);
  s.ready("a", 0);
  assert.deepEqual(s.dispatch(0), [{ worker: "a", task: 2, attempt: 1 }]);
  const wrote = (done: number[]) => (task: number) => done.includes(task);
  // Silent, timed out, or no output of 1 written: the task it worked on is to blame.
  assert.equal(s.blamed("a"), 1);
  assert.equal(s.blamed("a", wrote([])), 1);
  // Its process ended after writing 1: it died on 2, its result for 1 lost; 1 keeps its attempt.
  assert.equal(s.blamed("a", wrote([1])), 2);
  assert.deepEqual(s.lost("a", 6, "worker process exited with code 70", false, wrote([1])), []);
  assert.equal(s.attempts(1), 0);
  assert.equal(s.attempts(2), 1);
  // 2 goes back first, 1 after it; the next worker dies on 2 again, holding 2 and 1: failed.
  s.join("b", 7);
  assert.deepEqual(s.ready("b", 7), { worker: "b", task: 2, attempt: 2 });
  assert.deepEqual(s.dispatch(7), [{ worker: "b", task: 1, attempt: 1 }]);
  assert.equal(
    s.blamed("b", wrote([1])),
    2,
    "1's output is from the earlier attempt: 2 is held first",
  );
  assert.deepEqual(s.lost("b", 8, "worker process exited with code 70", false, wrote([1])), [2]);
  assert.equal(s.ended.get(2)?.ok, false);
  assert.equal(s.attempts(1), 0);
});

Deno.test("asking ahead with nothing queued: the worker gets the next task once one is requeued and its result is in", () => {
  const s = new Scheduler([1, 2]);
  s.join("a", 0);
  s.join("b", 0);
  s.ready("a", 0);
  s.ready("b", 0);
  assert.equal(s.ready("a", 1, true), null, "queue empty");
  // b dies: its task is requeued; a is still writing 1, so nothing is dispatched yet.
  s.lost("b", 2, "worker crashed");
  assert.deepEqual(s.dispatch(2), []);
  // a's result comes (more: false); a asked already, so dispatch gives it task 2.
  assert.ok(s.result("a", 1, ok, 3));
  assert.deepEqual(s.dispatch(3), [{ worker: "a", task: 2, attempt: 2 }]);
});

Deno.test("a result counts only from the worker holding that task at that attempt", () => {
  const s = new Scheduler([0, 1]);
  s.join("a", 0);
  s.join("b", 0);
  assert.deepEqual(s.ready("a", 0), { worker: "a", task: 0, attempt: 1 });
  assert.equal(s.holds("b", 0, 1), false, "b does not hold task 0");
  assert.equal(s.result("b", 0, ok, 1, 1), false);
  s.lost("a", 2, "silent");
  s.join("a", 3);
  assert.deepEqual(s.ready("a", 3), { worker: "a", task: 0, attempt: 2 });
  assert.equal(s.holds("a", 0, 1), false, "attempt 1 was replaced");
  assert.equal(s.result("a", 0, ok, 4, 1), false);
  assert.ok(s.result("a", 0, ok, 5, 2));
  assert.equal(s.holds("a", 0, 2), false, "a done task is held by nobody");
  assert.equal(s.result("a", 0, ok, 6, 2), false);
});

Deno.test("a worker that timed out on a task is never given it again", () => {
  const s = new Scheduler([0, 1]);
  s.join("slow", 0);
  s.join("good", 0);
  assert.deepEqual(s.ready("slow", 0), { worker: "slow", task: 0, attempt: 1 });
  s.lost("slow", 10, "timeout", true);
  s.join("slow", 11);
  // Task 0 is at the front of the queue, but not for this worker.
  assert.deepEqual(s.ready("slow", 11), { worker: "slow", task: 1, attempt: 1 });
  assert.ok(s.result("slow", 1, ok, 12, 1));
  assert.equal(s.ready("slow", 12), null, "only task 0 is left: it waits for another worker");
  assert.deepEqual(s.ready("good", 13), { worker: "good", task: 0, attempt: 2 });
});

Deno.test("amend: a task counted as done whose output the server could not write fails", () => {
  const s = new Scheduler([0, 1]);
  s.join("a", 0);
  s.ready("a", 0);
  assert.ok(s.result("a", 0, ok, 1, 1));
  assert.ok(s.done === false && s.finished === 1);
  const failed = { ok: false as const, error: "cannot write x.jpg: disk full" };
  assert.ok(s.amend("a", 0, failed));
  assert.deepEqual(s.ended.get(0), failed);
  const a = s.workers[0];
  assert.deepEqual([a.processed, a.failed, a.spans[0].ok], [0, 1, false]);
  assert.equal(s.amend("a", 0, failed), false, "only a task ended as done can be amended");
  assert.equal(s.amend("a", 1, failed), false, "nor one not ended");
});

Deno.test("the window's room goes to the worker it refused first, not to the one that answered", () => {
  // A window of one task out, as the broker's canAssign counts it.
  const s: Scheduler = new Scheduler([0, 1, 2, 3, 4], {
    canAssign: () => s.workers.reduce((sum, w) => sum + w.held.length, 0) < 1,
  });
  for (const id of ["a", "b", "c"]) s.join(id, 0);
  const a = s.ready("a", 0)!;
  assert.equal(s.ready("b", 0), null, "the window is full");
  assert.equal(s.ready("c", 0), null);
  assert.ok(s.result("a", a.task, ok, 1, 1));
  assert.equal(s.ready("a", 1), null, "a answered, but b and c were refused before it asked");
  assert.deepEqual(s.dispatch(1).map((x) => x.worker), ["b"], "one room: b, the first refused");
  s.result("b", 1, ok, 2, 1);
  assert.equal(s.ready("b", 2), null);
  assert.deepEqual(s.dispatch(2).map((x) => x.worker), ["c"]);
  s.lost("c", 3, "gone");
  assert.deepEqual(s.dispatch(3).map((x) => x.worker), ["a"], "c's task goes to a, next in line");
});

Deno.test("held counts the tasks out, through results, prefetch and a lost worker", () => {
  const s = new Scheduler([0, 1, 2, 3, 4], { prefetch: 1 });
  s.join("a", 0);
  s.join("b", 0);
  assert.ok(s.ready("a", 1));
  assert.ok(s.ready("b", 1));
  assert.equal(s.dispatch(1).length, 2, "a's and b's prefetched tasks");
  assert.equal(s.held, 4);
  assert.ok(s.result("a", 0, ok, 2));
  assert.equal(s.held, 3);
  s.lost("b", 3, "gone");
  assert.equal(s.held, 1, "b's task and its prefetched one are back in the queue");
  assert.equal(s.held, s.workers.reduce((n, w) => n + w.held.length, 0));
});

const tasksOf = (grant: { task: number }[]) => grant.map((a) => a.task);

Deno.test("batch: guided grants (large early, single tasks at the tail), at most --batch held, the rest of a wish dispatched later", () => {
  const s = new Scheduler(Array.from({ length: 40 }, (_, i) => i), { batch: 8 });
  s.join("a", 0);
  s.join("b", 0);
  // 40 queued, 2 workers: a share is ceil(40 / 4) = 10, cut to the 8 a worker may hold.
  assert.deepEqual(tasksOf(s.request("a", 0, 64)), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(s.worker("a")!.want, 0, "a hostile wish is cut to --batch");
  // 32 queued: ceil(32 / 4) = 8.
  assert.deepEqual(tasksOf(s.request("b", 0, 8)), [8, 9, 10, 11, 12, 13, 14, 15]);
  assert.deepEqual(s.request("a", 1, 8), [], "holding 8 of 8: nothing more");
  // a reports 4 results at once and asks for 4 more.
  const done = [0, 1, 2, 3].map((task) => ({ task, attempt: 1, end: ok }));
  assert.deepEqual(s.results("a", done, 20), [true, true, true, true]);
  // Their spans share the 20 ms evenly, each starting when the one before ended.
  assert.deepEqual(s.worker("a")!.spans.map((x) => [x.task, x.start, x.end]), [
    [0, 0, 5],
    [1, 5, 10],
    [2, 10, 15],
    [3, 15, 20],
  ]);
  assert.equal(s.worker("a")!.taskSince, 20, "the task it is on counts from the report");
  // It holds 4 (4..7); 24 queued: a share of ceil(24 / 4) = 6 is what it may hold, so 2 more.
  assert.deepEqual(tasksOf(s.request("a", 20, 4)), [16, 17]);
  assert.equal(s.worker("a")!.want, 2, "the rest of its wish waits");
  // The tail: 22 queued, then fewer; what a worker holds shrinks to 2.
  for (const id of ["a", "b"]) {
    const state = s.worker(id)!;
    s.results(id, state.held.map((task) => ({ task, attempt: 1, end: ok })), 30);
  }
  assert.deepEqual(s.request("a", 30, 8).length, 6, "ceil(22 / 4)");
  assert.deepEqual(s.request("b", 30, 8).length, 4, "ceil(16 / 4)");
  s.results("a", s.worker("a")!.held.map((task) => ({ task, attempt: 1, end: ok })), 40);
  s.results("b", s.worker("b")!.held.map((task) => ({ task, attempt: 1, end: ok })), 40);
  assert.equal(s.queued, 12);
  const sizes = [];
  while (s.queued > 0) {
    const grant = s.request("a", 50, 8);
    sizes.push(grant.length);
    s.results("a", grant.map((a) => ({ task: a.task, attempt: 1, end: ok })), 50);
  }
  assert.deepEqual(sizes, [3, 3, 2, 2, 2], "ceil(q / 4) as the queue drains, 2 at least");
  // A wish the queue could not meet waits: a requeued task goes to it through dispatch.
  assert.deepEqual(s.request("b", 60, 3), []);
  assert.equal(s.worker("b")!.want, 3);
  s.lost("a", 61, "worker crashed");
  assert.deepEqual(s.dispatch(61), [], "a held nothing");
  assert.equal(s.done, true);
});

Deno.test("batch: results for tasks not held, of another attempt or ended count for nothing", () => {
  const s = new Scheduler([0, 1, 2, 3], { batch: 4 });
  s.join("a", 0);
  s.join("b", 0);
  assert.deepEqual(tasksOf(s.request("a", 0, 1)), [0]);
  assert.deepEqual(tasksOf(s.request("b", 0, 1)), [1]);
  assert.deepEqual(
    s.results("a", [
      { task: 1, attempt: 1, end: ok }, // b's
      { task: 0, attempt: 2, end: ok }, // another attempt
      { task: 9, attempt: 1, end: ok }, // no such task
      { task: 0, attempt: 1, end: ok },
    ], 10),
    [false, false, false, true],
  );
  assert.deepEqual(s.worker("a")!.spans, [{ task: 0, start: 0, end: 10, ok: true }]);
  assert.equal(s.finished, 1);
});

Deno.test("batch: a worker that dies holding a batch: finished outputs go back without an attempt, the first unfinished one is blamed", () => {
  const s = new Scheduler([0, 1, 2, 3, 4, 5], { maxAttempts: 1, batch: 6 });
  s.join("a", 0);
  assert.equal(s.request("a", 0, 6).length, 3, "ceil(6 / 2)");
  const wrote = (tasks: number[]) => (task: number) => tasks.includes(task);
  assert.equal(s.blamed("a", wrote([0, 1])), 2);
  assert.equal(s.blamed("a", wrote([1])), 0, "only a finished prefix counts");
  assert.equal(s.blamed("a", wrote([0, 1, 2])), 2, "the last one held, even if finished");
  assert.deepEqual(s.lost("a", 5, "worker crashed", false, wrote([0, 1])), [2]);
  assert.equal(s.ended.get(2)?.ok, false, "one attempt: task 2 is failed");
  assert.deepEqual([0, 1].map((t) => s.attempts(t)), [0, 0], "finished ones keep their attempts");
  s.join("b", 6);
  assert.deepEqual(tasksOf(s.request("b", 6, 6)), [0, 1, 3]);
});

Deno.test("batch: a worker that tops up its --batch after each report holds no more than its share, so equally fast workers end together", () => {
  // 24 tasks of 1 time unit, --batch 16, 2 local workers, b joining a moment after a; each
  // reports (asking for 16 less what it still holds) when it ran out or has 8 done, as a local
  // worker does. Before the holdings followed the share, a held 16 tasks and b 8: b sat idle
  // for a third of the run.
  const s = new Scheduler(Array.from({ length: 24 }, (_, i) => i), { batch: 16, expected: 2 });
  const queue: Record<string, number[]> = { a: [], b: [] };
  const done: Record<string, number[]> = { a: [], b: [] };
  const end: Record<string, number> = { a: 0, b: 0 };
  const take = (grants: { worker: string; task: number }[]) =>
    grants.forEach((g) => queue[g.worker].push(g.task));
  // The broker dispatches after every message, as here after each request.
  s.join("a", 0);
  take(s.request("a", 0, 16));
  take(s.dispatch(0));
  s.join("b", 0.2);
  take(s.request("b", 0.2, 16));
  take(s.dispatch(0.2));
  const clock: Record<string, number> = { a: 0, b: 0.2 };
  for (let step = 0; step < 1000 && !s.done; step++) {
    // The worker whose next task ends first does it.
    const id = ["a", "b"].filter((w) => queue[w].length).sort((x, y) => clock[x] - clock[y])[0];
    if (!id) break;
    clock[id] += 1;
    end[id] = clock[id];
    done[id].push(queue[id].shift()!);
    const left = queue[id].length;
    if (left === 0 || done[id].length >= 8) {
      s.results(id, done[id].map((task) => ({ task, attempt: 1, end: ok })), clock[id]);
      done[id] = [];
      take(s.request(id, clock[id], 16 - left));
      take(s.dispatch(clock[id]));
      // A worker that had run out starts on what it was given now.
      for (const other of ["a", "b"]) {
        if (other !== id && !queue[other].length) clock[other] = clock[id];
      }
    }
  }
  assert.equal(s.done, true);
  const [a, b] = s.workers.map((w) => w.processed);
  assert.ok(Math.abs(a - b) <= 2, `a did ${a} tasks, b ${b}`);
  assert.ok(Math.abs(end.a - end.b) <= 2, `a ends at ${end.a}, b at ${end.b}`);
});

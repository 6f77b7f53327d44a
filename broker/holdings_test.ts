/**
 * Unit tests of the sizing rules (`Holdings`): a one-at-a-time worker's
 * capacity, a batching worker's wish cut to `--batch`, guided grants by the
 * work left and the workers present or expected, and the payload window's
 * weight. The scheduler's use of them: scheduler_test.ts.
 */

import assert from "node:assert/strict";
import { Holdings } from "./holdings.ts";

Deno.test("a worker asking one at a time holds the task it is on and --prefetch more", () => {
  assert.equal(new Holdings().capacity, 1);
  assert.equal(new Holdings({ prefetch: 1 }).capacity, 2);
});

Deno.test("a batching worker's wish is cut to what --batch leaves room for, never below 0", () => {
  const rule = new Holdings({ batch: 16 });
  assert.equal(rule.wish(64, 0), 16, "a hostile wish");
  assert.equal(rule.wish(8, 4), 8);
  assert.equal(rule.wish(16, 10), 6);
  assert.equal(rule.wish(4, 20), 0, "holding more than --batch (two reports in flight)");
  assert.equal(rule.wish(-3, 0), 0);
});

Deno.test("guided: a worker holds at most ceil(queued / (2 x workers)), or 2 at the tail", () => {
  const rule = new Holdings({ batch: 32 });
  assert.equal(rule.grantSize(32, 0, 1000, 2), 32, "250 a share: the wish is less");
  assert.equal(rule.grantSize(32, 0, 40, 2), 10, "ceil(40 / 4)");
  assert.equal(rule.grantSize(32, 6, 40, 2), 4, "holding 6 of a share of 10");
  assert.equal(rule.grantSize(32, 12, 40, 2), 0, "holding more than its share: nothing");
  assert.equal(rule.grantSize(32, 0, 3, 2), 2, "the tail: the task it is on and the next");
  assert.equal(rule.grantSize(32, 1, 3, 2), 1);
  assert.equal(rule.grantSize(1, 0, 40, 2), 1, "never more than it asked for");
  assert.equal(rule.grantSize(8, 0, 40, 0), 8, "no worker present counts as one: ceil(40 / 2)");
});

Deno.test("guided: the workers expected count from the start; more present than expected count too", () => {
  const rule = new Holdings({ batch: 64, expected: 4 });
  assert.equal(rule.grantSize(64, 0, 80, 1), 10, "alone so far, 4 expected: ceil(80 / 8)");
  assert.equal(rule.grantSize(64, 0, 80, 8), 5, "8 present: ceil(80 / 16)");
  assert.equal(new Holdings({ batch: 64 }).grantSize(64, 0, 80, 1), 40, "none expected");
});

Deno.test("the payload window: a grant stops at window / (2 x workers), a worker holding window / workers gets none", () => {
  const rule = new Holdings({ batch: 16, window: 100 });
  assert.equal(rule.weightAllows(0, 0, 2), true);
  assert.equal(rule.weightAllows(24, 24, 2), true);
  assert.equal(rule.weightAllows(25, 25, 2), false, "the grant weighs a quarter");
  assert.equal(rule.weightAllows(0, 50, 2), false, "it holds half: its share");
  assert.equal(rule.weightAllows(0, 49, 2), true);
  assert.equal(rule.weightAllows(40, 40, 1), true, "alone: half the window a grant");
  assert.equal(rule.weightAllows(50, 50, 0), false, "no worker present counts as one");
  assert.equal(new Holdings().weightAllows(1e12, 1e12, 2), true, "no window");
});

/** Tests of worker/shutdown.ts: the worker's one shutdown state machine. */

import assert from "node:assert/strict";
import { WorkerShutdown } from "./shutdown.ts";

Deno.test("WorkerShutdown: the first end wins, closes once, settles ended but not over", async () => {
  let closed = 0;
  const shutdown = new WorkerShutdown(() => closed++);
  assert.equal(shutdown.phase, "running");
  shutdown.end(2);
  shutdown.end(4);
  assert.equal(shutdown.exitCode, 2);
  assert.equal(shutdown.phase, "ended");
  assert.equal(closed, 1);
  assert.equal(await shutdown.ended, null);
  const overSettled = await Promise.race([shutdown.over.then(() => true), Promise.resolve(false)]);
  assert.equal(overSettled, false);
});

Deno.test("WorkerShutdown: abandon ends and settles over", async () => {
  const shutdown = new WorkerShutdown(() => {});
  shutdown.abandon(4);
  await shutdown.over;
  assert.equal(shutdown.exitCode, 4);
});

Deno.test("WorkerShutdown: leave says goodbye once, then ends; nothing once ended", async () => {
  let goodbyes = 0;
  let release = () => {};
  const shutdown = new WorkerShutdown(() => {});
  const goodbye = () => {
    goodbyes++;
    return new Promise<void>((resolve) => release = resolve);
  };
  const first = shutdown.leave(0, goodbye);
  const second = shutdown.leave(0, goodbye);
  assert.equal(shutdown.phase, "leaving");
  release();
  await Promise.all([first, second]);
  assert.equal(goodbyes, 1);
  assert.equal(shutdown.exitCode, 0);
  await shutdown.leave(0, goodbye);
  assert.equal(goodbyes, 1);
});

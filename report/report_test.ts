import assert from "node:assert/strict";
import { closingLine } from "./report.ts";

const base = {
  processed: 19,
  total: 22,
  seconds: 1.234,
  skipped: 0,
  failed: [],
  interrupted: false,
};
const failure = (path: string) => ({ path, error: "empty file" });

Deno.test("closingLine: the old tool's words alone when every image is done", () => {
  assert.equal(closingLine(base), "server has processed 19/22 images in 1.23s");
});

Deno.test("closingLine: failures and skips are counted, an interrupted run says how to resume", () => {
  assert.equal(
    closingLine({ ...base, failed: [failure("a"), failure("b"), failure("c")] }),
    "server has processed 19/22 images in 1.23s; 3 failed",
  );
  assert.equal(
    closingLine({ ...base, processed: 10, skipped: 12 }),
    "server has processed 10/22 images in 1.23s; 12 skipped (output exists)",
  );
  assert.equal(
    closingLine({ ...base, processed: 5, skipped: 2, failed: [failure("a")], interrupted: true }),
    "server has processed 5/22 images in 1.23s; 1 failed, 2 skipped (output exists), " +
      "interrupted with 14 not done: run it again with --skip-existing to resume",
  );
});

// The image thread (a real Web Worker) gives the bytes processBytes gives on this thread; an input
// that is the whole of its buffer is moved to the thread (empty here afterwards), a view of part
// of a larger buffer is copied (left as it was); a file that is no image is a failed answer. A
// small image is done on the calling thread, with the same bytes; a large one goes to the thread.
import assert from "node:assert/strict";
import { ImageThread } from "./image_thread.ts";
import { processBytes } from "../task/task.ts";
import { fitPipeline } from "../tests/helpers.ts";

const pipeline = fitPipeline(32);

Deno.test("image thread: outputs as on this thread; a whole buffer moves, a view is copied", async () => {
  const jpeg = await Deno.readFile(new URL("../tests/fixtures/orient_1.jpg", import.meta.url));
  const want = (await processBytes(jpeg.slice(), pipeline)).bytes;
  const thread = new ImageThread(0); // every image to the thread
  try {
    const whole = jpeg.slice();
    const moved = await thread.process(whole, pipeline, "orient_1.jpg");
    if (!moved.ok) throw new Error(moved.error);
    assert.deepEqual(moved.encoded.bytes, want);
    assert.equal(whole.byteLength, 0, "moved to the thread");
    const padded = new Uint8Array(jpeg.length + 16);
    padded.set(jpeg, 8);
    const view = padded.subarray(8, 8 + jpeg.length);
    const copied = await thread.process(view, pipeline, "orient_1.jpg");
    if (!copied.ok) throw new Error(copied.error);
    assert.deepEqual(copied.encoded.bytes, want);
    assert.deepEqual(view, jpeg, "a view of part of a buffer is left as it was");
    const bad = await thread.process(new Uint8Array([1, 2, 3]), pipeline, "bad.jpg");
    assert.ok(!bad.ok && /not a JPEG/.test(bad.error), JSON.stringify(bad));
  } finally {
    thread.close();
  }
});

Deno.test("image thread: requests handed over together are answered in order, each with its pipeline", async () => {
  const jpeg = await Deno.readFile(new URL("../tests/fixtures/orient_1.jpg", import.meta.url));
  const small = fitPipeline(16);
  const want32 = (await processBytes(jpeg.slice(), pipeline)).bytes;
  const want16 = (await processBytes(jpeg.slice(), small)).bytes;
  const thread = new ImageThread(0); // every image to the thread
  try {
    // Sent before any answer: the thread queues them; the pipeline goes only when it changes.
    const answers = await Promise.all([
      thread.process(jpeg.slice(), pipeline, "a.jpg"),
      thread.process(jpeg.slice(), pipeline, "b.jpg"),
      thread.process(jpeg.slice(), small, "c.jpg"),
      thread.process(jpeg.slice(), pipeline, "d.jpg"),
    ]);
    const bytes = answers.map((answer) => {
      if (!answer.ok) throw new Error(answer.error);
      return answer.encoded.bytes;
    });
    assert.deepEqual(bytes, [want32, want32, want16, want32]);
  } finally {
    thread.close();
  }
});

Deno.test("image thread: a small image is done here, the same bytes; a large output goes to the thread", async () => {
  const jpeg = await Deno.readFile(new URL("../tests/fixtures/orient_1.jpg", import.meta.url));
  const want = (await processBytes(jpeg.slice(), pipeline)).bytes;
  const thread = new ImageThread();
  try {
    const input = jpeg.slice();
    assert.ok(thread.runsHere(input, pipeline));
    const here = await thread.process(input, pipeline, "orient_1.jpg");
    if (!here.ok) throw new Error(here.error);
    assert.deepEqual(here.encoded.bytes, want);
    assert.equal(input.byteLength, jpeg.byteLength, "not moved: done on this thread");
    const bad = await thread.process(new Uint8Array([1, 2, 3]), pipeline, "bad.jpg");
    assert.ok(!bad.ok && /not a JPEG/.test(bad.error), JSON.stringify(bad));
    // A slow encoder's, or made larger than HERE_MAX_PIXELS by a resize: the thread's.
    assert.ok(!thread.runsHere(jpeg, { ...pipeline, encoder: "mozjpeg" }));
    assert.ok(!thread.runsHere(jpeg, { ...pipeline, format: "webp" }));
    // Cut short or no image: judged without throwing, and left to the thread.
    for (
      const bytes of [
        jpeg.subarray(0, 30),
        new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
        jpeg.subarray(0, 0),
      ]
    ) {
      assert.ok(!thread.runsHere(bytes, pipeline));
    }
    const large = fitPipeline(1200);
    assert.ok(!thread.runsHere(jpeg, large));
    const whole = jpeg.slice();
    const there = await thread.process(whole, large, "orient_1.jpg");
    if (!there.ok) throw new Error(there.error);
    assert.deepEqual(there.encoded.bytes, (await processBytes(jpeg.slice(), large)).bytes);
    assert.equal(whole.byteLength, 0, "moved to the thread");
  } finally {
    thread.close();
  }
});

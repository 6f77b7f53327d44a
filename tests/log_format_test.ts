/**
 * Output for scripts: `--log-format json` writes one parseable JSON object
 * per line on stderr (info, per-image warnings with path and error,
 * progress with done/total, debug with --verbose), nothing else there, and
 * stdout keeps only the closing line; `--quiet` leaves stderr empty.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { SOURCE_ROOT } from "../core/runtime.ts";

const decoder = new TextDecoder();

async function sequential(dir: string, extra: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(SOURCE_ROOT, "main.ts"),
      "sequential",
      "-i",
      join(dir, "in"),
      "-o",
      join(dir, "out"),
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("--log-format json: one JSON object per stderr line, with progress and warnings", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zpix-log-" });
  try {
    await Deno.mkdir(join(dir, "in"));
    const fixtures = join(SOURCE_ROOT, "tests", "fixtures");
    await Deno.copyFile(join(fixtures, "quad.png"), join(dir, "in", "good.png"));
    await Deno.copyFile(join(fixtures, "not_an_image.jpg"), join(dir, "in", "bad.jpg"));

    const json = await sequential(dir, ["--log-format", "json", "--verbose"]);
    assert.equal(json.code, 1);
    assert.match(json.stdout, /^server has processed 1\/2 images in [\d.]+s; 1 failed\n$/);
    const lines = json.stderr.trimEnd().split("\n");
    const events = lines.map((line) => JSON.parse(line));
    for (const event of events) assert.equal(typeof event.level, "string");
    const failed = events.find((e) => e.level === "failed");
    assert.equal(failed.path, "bad.jpg");
    assert.match(failed.error, /not a JPEG, PNG, WebP, AVIF, HEIC or GIF file/);
    const progress = events.filter((e) => e.level === "progress");
    assert.ok(progress.length >= 1);
    assert.deepEqual([progress.at(-1).done, progress.at(-1).total], [2, 2]);
    assert.ok(events.some((e) => e.level === "debug" && e.path === "good.png"));
    assert.ok(events.some((e) => e.level === "info" && /2 image\(s\)/.test(e.message)));

    const quiet = await sequential(dir, ["--quiet", "--log-format", "json"]);
    assert.equal(quiet.code, 1);
    assert.equal(quiet.stderr, "");
    // Even quiet, the closing line says that one image failed.
    assert.match(quiet.stdout, /^server has processed 1\/2 images in [\d.]+s; 1 failed\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

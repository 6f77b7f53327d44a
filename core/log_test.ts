import assert from "node:assert/strict";
import { join } from "node:path";
import { formatDuration, progressText } from "./log.ts";
import { withTempDir, ZPIX_FLAGS } from "../tests/helpers.ts";
import { writeSamples } from "../cli/demo.ts";
import { SOURCE_ROOT } from "./runtime.ts";

Deno.test("progressText: done/total, percent, rate, ETA, and a bar of the given width", () => {
  assert.equal(progressText(50, 100, 5, 10), "[#####-----] 50/100 50% 10.0 img/s 5s ETA 5s");
  assert.equal(progressText(0, 8, 0), "0/8 0% 0.0 img/s 0s ETA ?");
  assert.equal(progressText(8, 8, 2, 4), "[####] 8/8 100% 4.0 img/s 2s ETA 0s");
  assert.equal(progressText(8, 10, 65, 0, 3), "8/10 80% 0.1 img/s 1m05s ETA 16s, 3 failed");
  // 1 image in 2 s, 150 to go: 300 s.
  assert.equal(progressText(1, 151, 2), "1/151 0% 0.5 img/s 2s ETA 5m00s");
});

Deno.test("formatDuration: seconds, then minutes and seconds", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(65), "1m05s");
  assert.equal(formatDuration(Infinity), "?");
});

Deno.test("on a terminal, parallel mode draws a progress bar that it redraws in place", async () => {
  const script = "/usr/bin/script";
  try {
    await Deno.stat(script);
  } catch {
    console.log("skipped: util-linux's script (which gives the run a terminal) is not installed");
    return;
  }
  await withTempDir(async (dir) => {
    await writeSamples(join(dir, "in"), 6);
    const command = [
      Deno.execPath(),
      "run",
      "--quiet",
      ...ZPIX_FLAGS,
      join(SOURCE_ROOT, "main.ts"),
      "parallel",
      "--input",
      join(dir, "in"),
      "--output",
      join(dir, "out"),
      "--workers",
      "2",
    ].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
    // script(1) runs the command on a pseudo-terminal and copies what it printed.
    const out = await new Deno.Command(script, {
      args: ["-qefc", command, join(dir, "typescript")],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
    // Each redraw returns to the line start and clears it, then draws the bar.
    const draws = text.split("\r\x1b[2K").slice(1);
    assert.ok(draws.length >= 1, `no redraw in ${JSON.stringify(text)}`);
    const last = draws.at(-1)!;
    assert.match(last, /^\[#+\] 6\/6 100% [\d.]+ img\/s \d+s ETA 0s/);
    assert.match(text, /server has processed 6\/6 images in [\d.]+s/);
    // The bar ends its line before the closing line; no periodic plain lines on a terminal.
    assert.doesNotMatch(text, /\nzpix: \d+\/\d+ /);
  });
});

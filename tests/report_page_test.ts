/**
 * The report page in a real browser: a real parallel run (two worker
 * processes, a few small images, two bad files, one with `<` in its name)
 * writes run.html and run.json; headless Chromium loads the page from disk,
 * runs its script, and the DOM it dumps must show one timeline row per
 * worker with one bar per task, the totals, the failure messages, and chart
 * vertices matching the samples. A screenshot must come out; set
 * ZPIX_SCREENSHOT=FILE to keep it. Ignored (the reason in its name) where
 * /usr/bin/chromium is absent.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Report } from "../report/report.ts";
import { throughputSeries } from "../report/charts.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/** Runs headless Chromium on a file with a fresh profile; returns stdout. */
async function chromium(page: string, extra: string[], dir: string): Promise<string> {
  const profile = await Deno.makeTempDir({ dir, prefix: "chromium-" });
  const { code, stdout, stderr } = await new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      ...extra,
      `file://${page}`,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(90_000),
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return text;
}

/** Width and height from a PNG's IHDR. */
function pngSize(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test({
  name: "report page: Chromium shows the run's workers, bars, totals, failures and samples" +
    (hasChromium ? "" : ` (ignored: no ${CHROMIUM})`),
  ignore: !hasChromium,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "zpix-report-page-" });
    try {
      const input = join(dir, "in");
      await Deno.mkdir(input);
      const fixtures = join(SOURCE_ROOT, "tests", "fixtures");
      for (let i = 0; i < 12; i++) {
        await Deno.copyFile(join(fixtures, "quad_baseline.jpg"), join(input, `photo${i}.jpg`));
      }
      await Deno.copyFile(join(fixtures, "quad.png"), join(input, "logo.png"));
      await Deno.copyFile(join(fixtures, "not_an_image.jpg"), join(input, "bad<b>name.jpg"));
      await Deno.writeFile(join(input, "empty.png"), new Uint8Array());
      const page = join(dir, "run.html");
      const json = join(dir, "run.json");
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(SOURCE_ROOT, "main.ts"),
          "parallel",
          "-i",
          input,
          "-o",
          join(dir, "out"),
          "--workers",
          "2",
          "--size",
          "32",
          "32",
          "--report",
          page,
          "--report",
          json,
          "--quiet",
        ],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(120_000),
      }).output();
      assert.equal(run.code, 1, new TextDecoder().decode(run.stderr)); // two images failed
      const report: Report = JSON.parse(await Deno.readTextFile(json));
      assert.equal(report.processed, 13);
      assert.equal(report.failed.length, 2);

      const dom = await chromium(page, ["--dump-dom"], dir);
      assert.match(dom, /<html[^>]*data-ready="true"/, "the page's script did not run");

      // One row per worker, one bar per task it held.
      const rows = dom.split('<g class="worker-row"').slice(1).map((r) => r.split("</g>")[0]);
      assert.equal(rows.length, report.workers.length);
      assert.ok(rows.length >= 1);
      for (const worker of report.workers) {
        const row = rows.find((r) => r.includes(`data-worker="${worker.id}"`));
        assert.ok(row, `no row for ${worker.id}`);
        assert.equal([...row.matchAll(/<rect class="bar /g)].length, worker.spans.length);
        assert.ok(row.includes(`${worker.processed} ok`));
      }
      assert.equal(
        report.workers.reduce((n, w) => n + w.spans.length, 0),
        15,
        "every task is one bar",
      );

      // Totals.
      const card = (label: string) =>
        new RegExp(`data-total="${label}"><div class="value">([^<]*)`).exec(dom)?.[1];
      assert.equal(card("processed"), "13");
      assert.equal(card("failed"), "2");
      assert.equal(card("images / second"), String(report.imagesPerSecond));

      // Failure messages, the file name shown as text, not markup.
      assert.ok(dom.includes("bad&lt;b&gt;name.jpg"));
      assert.ok(!dom.includes("<b>name"));
      for (const failure of report.failed) assert.ok(dom.includes(failure.error), failure.error);

      // Charts: CPU rows with one step per sample; throughput with one vertex per bucket.
      assert.ok(report.cpu.length > 0, "no CPU samples (is /proc/stat readable?)");
      const cpuLines = [...dom.matchAll(/class="cpu-line" data-points="(\d+)" points="([^"]*)"/g)];
      assert.equal(cpuLines.length, report.cpu[0].cores.length + 1);
      for (const [, n, points] of cpuLines) {
        assert.equal(Number(n), report.cpu.length);
        assert.equal(points.trim().split(/\s+/).length, 2 * report.cpu.length);
      }
      const rate = /class="rate-line" data-points="(\d+)" points="([^"]*)"/.exec(dom);
      assert.ok(rate);
      assert.equal(rate[2].trim().split(/\s+/).length, throughputSeries(report).length);

      // The pipeline and flags.
      assert.ok(dom.includes("--op resize=32x32"));

      const shot = join(dir, "run.png");
      await chromium(page, [`--screenshot=${shot}`, "--window-size=1200,1600"], dir);
      const png = await Deno.readFile(shot);
      assert.deepEqual(pngSize(png), [1200, 1600]);
      assert.ok(png.length > 20_000, "a blank screenshot");
      const keep = Deno.env.get("ZPIX_SCREENSHOT");
      if (keep) await Deno.copyFile(shot, keep);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

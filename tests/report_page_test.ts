/**
 * The report page in a real browser (headless Chromium), at 1200 and 700 px
 * wide, for two reports: one a real parallel run writes (two worker
 * processes, 43 small images, two bad files, one with `<` in its name) and
 * a synthetic one of 20,000 tasks (`synthetic_report.ts`). The page's DOM
 * must show one timeline row per worker with one bar per task (or, at
 * 20,000 tasks, pixel-wide columns with every failure marked), the totals,
 * the failure messages, chart vertices matching the samples; and what a
 * script injected after the page's own measures in the laid-out page:
 * no text under 9 px on screen, no chart wider than its section, row
 * labels clear of the plots, the throughput chart's axis title beside its
 * ticks and its mean's label off the curve, tooltips naming input files,
 * the CPU chart titled as the machine's and zpix's own, the time cursor
 * under the mouse in every chart. Screenshots must
 * come out; set ZPIX_SCREENSHOTS=DIR to keep them (DIR/real-1200.png, …).
 *
 * Ignored, saying so, where /usr/bin/chromium is absent (`.ci/run` installs it).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Report } from "../report/report.ts";
import { renderReportHtml } from "../report/html.ts";
import { throughputSeries } from "../report/charts.ts";
import { SOURCE_ROOT } from "../core/runtime.ts";
import { syntheticReport } from "./synthetic_report.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
const IGNORED = hasChromium ? "" : ` (ignored: no ${CHROMIUM}; .ci/run installs it)`;
if (!hasChromium) {
  console.warn(`report_page_test.ts: both tests ignored: ${CHROMIUM} is not installed`);
}

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
      "--hide-scrollbars",
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

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** What `report_page_measure.js` measures in the laid-out page. */
interface Measured {
  width: number;
  minFont: number;
  small: [string, string, number][];
  headings: string[];
  cpuNote: string | null;
  cursor: { at: number; lines: number[] };
  charts: Record<string, {
    svg: Box;
    sectionRight: number;
    scrolls: boolean;
    plotLeft: number;
    labelsOverPlot: string[];
    titles: string[];
    rowLabels: string[];
    plotTop?: number;
    plotBottom?: number;
    axisTitle?: Box & { text: string };
    yTicks?: Box[];
    axisTitleOverTicks?: boolean;
    meanLabel?: Box & { text: string };
    meanLabelOnCurve?: number;
  }>;
}

const MEASURE = await Deno.readTextFile(new URL("./report_page_measure.js", import.meta.url));

/** Loads the page `width` px wide with the measuring script; returns the DOM and what it measured. */
async function measure(page: string, width: number, dir: string): Promise<[string, Measured]> {
  const copy = join(dir, `measure-${width}.html`);
  const html = await Deno.readTextFile(page);
  await Deno.writeTextFile(copy, html.replace("</body>", `<script>${MEASURE}</script></body>`));
  const dom = await chromium(copy, ["--dump-dom", `--window-size=${width},2000`], dir);
  const json = /<pre id="zpix-measure">([^<]*)<\/pre>/.exec(dom)?.[1];
  assert.ok(json, "the measuring script did not run");
  const text = json.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
  return [dom, JSON.parse(text)];
}

/** What must hold of any report page at any width. */
function checkLayout(m: Measured, width: number): void {
  const at = `at ${width} px`;
  assert.equal(m.width, width);
  assert.deepEqual(m.small, [], `text under 9 px ${at}`);
  assert.ok(m.minFont >= 9, `smallest text ${m.minFont} px ${at}`);
  for (const [name, chart] of Object.entries(m.charts)) {
    assert.ok(!chart.scrolls, `the ${name} chart scrolls sideways ${at}`);
    assert.ok(chart.svg.right <= chart.sectionRight + 1, `the ${name} chart overflows ${at}`);
    assert.deepEqual(chart.labelsOverPlot, [], `${name} row labels run into the plot ${at}`);
  }
  const t = m.charts.throughput;
  const title = t.axisTitle!;
  assert.equal(title.text, "images / second");
  // Beside the axis: left of the plot, within 80 px of it, over the plot's middle, not on a tick.
  assert.ok(title.right <= t.plotLeft && title.left >= t.plotLeft - 80, `y title ${at}`);
  const middle = (title.top + title.bottom) / 2;
  assert.ok(middle > t.plotTop! && middle < t.plotBottom!, `y title beside the plot ${at}`);
  assert.ok(title.left > t.svg.left, `y title inside the chart ${at}`);
  assert.equal(t.axisTitleOverTicks, false, `y title over the tick labels ${at}`);
  assert.match(t.meanLabel!.text, /^mean [\d.]+ img\/s/);
  assert.equal(t.meanLabelOnCurve, 0, `the mean's label is on the curve ${at}`);
  assert.ok(t.meanLabel!.bottom <= t.plotTop!, `the mean's label over the plot ${at}`);
  // The time cursor lines up across the charts, under the mouse.
  assert.equal(m.cursor.lines.length, 3);
  for (const line of m.cursor.lines) {
    assert.ok(Math.abs(line - m.cursor.at) <= 1.5, `cursor at ${line}, mouse at ${m.cursor.at}`);
  }
  assert.ok(
    m.headings.some((h) => h.startsWith("CPU use: the machine's and zpix's own")),
    "CPU chart title",
  );
  assert.match(m.charts.cpu.rowLabels[0], /^machine\s*all programs · \d+%$/);
  assert.match(m.charts.cpu.rowLabels[1], /^zpix\s*its processes · \d+%$/);
  assert.match(m.cpuNote ?? "", /zpix's own CPU time: [\d.]+ s \(server [\d.]+ s, workers/);
}

/** Screenshots at 1200 and 700 px; kept in $ZPIX_SCREENSHOTS as NAME-WIDTH.png. */
async function screenshots(page: string, name: string, dir: string): Promise<void> {
  const keep = Deno.env.get("ZPIX_SCREENSHOTS");
  for (const width of [1200, 700]) {
    const shot = join(dir, `${name}-${width}.png`);
    await chromium(page, [`--screenshot=${shot}`, `--window-size=${width},2200`], dir);
    const png = await Deno.readFile(shot);
    assert.deepEqual(pngSize(png), [width, 2200]);
    assert.ok(png.length > 20_000, "a blank screenshot");
    if (keep) {
      await Deno.mkdir(keep, { recursive: true });
      await Deno.copyFile(shot, join(keep, `${name}-${width}.png`));
    }
  }
}

Deno.test({
  name: "report page: a real run in Chromium: workers, bars, tooltips, totals, failures, CPU" +
    IGNORED,
  ignore: !hasChromium,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "zpix-report-page-" });
    try {
      const input = join(dir, "in");
      await Deno.mkdir(input);
      const fixtures = join(SOURCE_ROOT, "tests", "fixtures");
      for (let i = 0; i < 40; i++) {
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
      assert.equal(report.processed, 41);
      assert.equal(report.failed.length, 2);

      const [dom, wide] = await measure(page, 1200, dir);
      assert.match(dom, /<html[^>]*data-ready="true"/, "the page's script did not run");

      // One row per worker, one bar per task it held.
      const rows = dom.split('<g class="worker-row"').slice(1).map((r) => r.split("</g>")[0]);
      assert.equal(rows.length, report.workers.length);
      assert.ok(rows.length >= 1);
      for (const worker of report.workers) {
        const row = rows.find((r) => r.includes(`data-worker="${worker.id}"`));
        assert.ok(row, `no row for ${worker.id}`);
        assert.equal([...row.matchAll(/<rect class="bar /g)].length, worker.spans.length);
        assert.ok(
          dom.includes(`${worker.id}</tspan><tspan class="muted" dx="6">${worker.processed} ok`),
        );
      }
      assert.equal(
        report.workers.reduce((n, w) => n + w.spans.length, 0),
        43,
        "every task is one bar",
      );
      // Each bar's tooltip names its input file.
      const titles = wide.charts.workers.titles;
      assert.equal(titles.length, 43);
      for (const worker of report.workers) {
        for (const span of worker.spans) {
          assert.ok(span.input, `span ${span.task} has no input path`);
          assert.ok(
            titles.some((t) => t.startsWith(`${worker.id} · ${span.input} · `)),
            `no tooltip names ${span.input}`,
          );
        }
      }
      assert.ok(titles.some((t) => t.includes("bad<b>name.jpg") && t.endsWith("failed")));

      // Totals.
      const card = (label: string) =>
        new RegExp(`data-total="${label}"><div class="value">([^<]*)`).exec(dom)?.[1];
      assert.equal(card("processed"), "41");
      assert.equal(card("failed"), "2");
      assert.equal(card("images / second"), String(report.imagesPerSecond));

      // Failure messages, the file name shown as text, not markup.
      assert.ok(dom.includes("bad&lt;b&gt;name.jpg"));
      assert.ok(!dom.includes("<b>name"));
      for (const failure of report.failed) assert.ok(dom.includes(failure.error), failure.error);

      // Charts: CPU rows (machine, zpix, each core) with one step per sample; throughput with
      // one vertex per bucket.
      assert.ok(report.cpu.length > 0, "no CPU samples (is /proc/stat readable?)");
      assert.ok(report.cpu.every((s) => typeof s.server === "number"), "no server CPU time");
      assert.ok(report.workers.every((w) => w.cpuTime?.length), "a worker's CPU time is missing");
      const cpuLines = [...dom.matchAll(/class="cpu-line" data-points="(\d+)" points="([^"]*)"/g)];
      assert.equal(cpuLines.length, report.cpu[0].cores.length + 2);
      for (const [, n, points] of cpuLines) {
        assert.equal(Number(n), report.cpu.length);
        assert.equal(points.trim().split(/\s+/).length, 2 * report.cpu.length);
      }
      const rate = /class="rate-line" data-points="(\d+)" points="([^"]*)"/.exec(dom);
      assert.ok(rate);
      assert.equal(rate[2].trim().split(/\s+/).length, throughputSeries(report).length);

      // The pipeline and flags.
      assert.ok(dom.includes("--op resize=32x32"));

      checkLayout(wide, 1200);
      checkLayout((await measure(page, 700, dir))[1], 700);
      await screenshots(page, "real", dir);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "report page: 20,000 tasks in Chromium: readable at 1200 and 700 px, failures marked" +
    IGNORED,
  ignore: !hasChromium,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "zpix-report-page-" });
    try {
      const report = syntheticReport(20_000, 8);
      const page = join(dir, "big.html");
      const html = renderReportHtml(report);
      await Deno.writeTextFile(page, html);
      const timeline = /<svg[^>]*data-chart="workers"[\s\S]*?<\/svg>/.exec(html)![0];
      console.log(
        `20,000 tasks: page ${(html.length / 1024).toFixed(0)} KiB, timeline SVG ${
          (timeline.length / 1024).toFixed(1)
        } KiB`,
      );
      for (const width of [1200, 700]) {
        const [dom, m] = await measure(page, width, dir);
        assert.match(dom, /data-chart="workers"[^>]*data-binned="true"/);
        checkLayout(m, width);
        // Every failure is marked, its tooltip naming the file; the rest are columns.
        const titles = m.charts.workers.titles;
        for (const failure of report.failed) {
          assert.ok(titles.some((t) => t.includes(failure.path)), `${failure.path} not shown`);
        }
        assert.ok(titles.some((t) => t.endsWith("worker lost")));
        assert.ok(titles.length < 200, `${titles.length} tooltips`);
      }
      await screenshots(page, "synthetic-20000", dir);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

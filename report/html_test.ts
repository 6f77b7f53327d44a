/**
 * Pure rendering checks of the run report page: escaping, no external
 * resources, one timeline row per worker with one bar per task, one chart
 * vertex per sample, secrets kept out, throughput maths.
 */

import assert from "node:assert/strict";
import { parseJob } from "../cli/args.ts";
import type { Report } from "./report.ts";
import { jobCommandLine, MAX_TABLE_ROWS, renderReportHtml, shellQuote } from "./html.ts";
import { CHART, niceTicks, throughputSeries } from "./charts.ts";
import { MAX_BARS_PER_ROW, slowThreshold, WARMUP_MAX_TASKS, workerSpanKinds } from "./timeline.ts";
import { MAX_CPU_POINTS } from "./cpu_chart.ts";
import type { Span } from "../core/results.ts";
import { syntheticPath, syntheticReport } from "../tests/synthetic_report.ts";
import { escapeHtml, formatSeconds } from "./format.ts";

const EVIL = `<img src=x onerror="alert(1)">&'`;

/** A report as a parallel run over `n` images with two workers would write it. */
function sampleReport(overrides: Partial<Report> = {}, args: string[] = []): Report {
  const parsed = parseJob("parallel", ["-i", "/in", "-o", "/out", "--workers", "2", ...args], "/");
  if (parsed.kind !== "job") throw new Error("expected a job");
  const spans = (offset: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      task: 2 * i + offset,
      start: 100 + i * 120,
      end: 100 + i * 120 + (i === n - 1 ? 700 : 100),
      ok: i === 1 && offset === 1 ? false : true,
      input: `photos/img${2 * i + offset}.jpg`,
    }));
  return {
    mode: "parallel",
    total: 10,
    processed: 9,
    skipped: 0,
    failed: [{ path: `dir/${EVIL}.jpg`, error: `bad data ${EVIL}` }],
    warnings: [{ path: "w.jpg", warning: "EXIF orientation 6 applied" }],
    seconds: 1.5,
    imagesPerSecond: 6,
    workers: [
      {
        id: "w1",
        pid: 10,
        host: "local",
        processed: 5,
        failed: 0,
        busySeconds: 1.1,
        idleSeconds: 0.2,
        spans: spans(0, 5),
      },
      {
        id: `w${EVIL}`,
        pid: 11,
        host: "local",
        processed: 4,
        failed: 1,
        busySeconds: 1,
        idleSeconds: 0.3,
        spans: spans(1, 5),
      },
    ],
    stages: {
      read: 1,
      decode: 10,
      ops: 5,
      steps: { "resize=512x512": 5 },
      encode: 4,
      write: 1,
      overhead: 2,
    },
    pipeline: ["resize=512x512"],
    job: parsed.job,
    startedAt: "2026-01-01T00:00:00.000Z",
    interrupted: false,
    progress: [[0.25, 2], [0.5, 4], [1, 7], [1.5, 10]],
    cpu: Array.from({ length: 6 }, (_, i) => ({ t: (i + 1) * 0.25, cores: [0.5, i / 5] })),
    ...overrides,
  };
}

function assertIncludes(text: string, part: string): void {
  assert.ok(text.includes(part), `expected the page to contain ${JSON.stringify(part)}`);
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

Deno.test("escapeHtml escapes every character that could open markup or end an attribute", () => {
  assert.deepEqual(escapeHtml(`<a href="x">'&`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;");
});

Deno.test("user strings are escaped everywhere: file names, messages, worker ids, paths", () => {
  const report = sampleReport({}, ["--pattern", "*<b>.jpg"]);
  const html = renderReportHtml(report);
  assert.ok(!html.includes("<img"), "a file name became markup");
  assert.ok(!html.includes("<b>"), "the pattern became markup");
  assertIncludes(html, `dir/${escapeHtml(EVIL)}.jpg`);
  assertIncludes(html, `bad data ${escapeHtml(EVIL)}`);
  // The embedded JSON cannot close its script element.
  const json = html.split('<script type="application/json" id="zpix-report">')[1].split(
    "</script>",
  )[0];
  assert.ok(!json.includes("<"));
  assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(report)));
});

Deno.test("the page loads nothing: no URLs, no src/href attributes, a CSP forbidding fetches", () => {
  const report = sampleReport({
    failed: [{ path: "a.jpg", error: "not a JPEG, PNG, WebP, AVIF, HEIC or GIF file" }],
  });
  report.workers[1].id = "w2";
  const html = renderReportHtml(report);
  assert.ok(!/https?:\/\//.test(html), "an absolute URL is in the page");
  assert.ok(!/\s(src|href)=/.test(html), "a src/href attribute");
  assert.ok(!/<link|@import|url\(/.test(html));
  assertIncludes(html, "default-src 'none'");
});

Deno.test("one timeline row per worker, with one bar per task and its kind", () => {
  const report = sampleReport();
  const html = renderReportHtml(report);
  const rows = html.split('<g class="worker-row"').slice(1);
  assert.deepEqual(rows.length, report.workers.length);
  rows.forEach((row, i) => {
    const body = row.split("</g>")[0];
    assert.deepEqual(count(body, /<rect class="bar /g), report.workers[i].spans.length);
  });
  assert.deepEqual(count(html, /class="bar failed"/g), 1);
  // Each worker's last task took 7x the others: stragglers.
  assert.deepEqual(count(html, /class="bar slow"/g), 2);
  assertIncludes(html, "4 ok · 1 failed · 77% busy");
});

Deno.test("CPU chart: a row per core plus the mean, one step per sample", () => {
  const report = sampleReport();
  const html = renderReportHtml(report);
  assert.deepEqual(count(html, /<g class="cpu-row/g), 3);
  for (
    const match of html.matchAll(/<polyline class="cpu-line" data-points="(\d+)" points="([^"]*)"/g)
  ) {
    assert.deepEqual(Number(match[1]), report.cpu.length);
    assert.deepEqual(match[2].split(" ").length, 2 * report.cpu.length);
  }
  // cpu1 runs 0, 20, ... 100 %; its mean is 50 %.
  assertIncludes(html, "mean 50%");
});

Deno.test("CPU chart: long runs are averaged down to MAX_CPU_POINTS columns", () => {
  const cpu = Array.from({ length: 3 * MAX_CPU_POINTS }, (_, i) => ({ t: i / 4, cores: [1] }));
  const html = renderReportHtml(sampleReport({ cpu, seconds: cpu.length / 4 }));
  assertIncludes(html, `data-points="${MAX_CPU_POINTS}"`);
});

Deno.test("throughputSeries: a steady rate reads as that rate in every bucket", () => {
  const progress: [number, number][] = Array.from(
    { length: 40 },
    (_, i) => [(i + 1) / 4, 5 * (i + 1)],
  );
  const series = throughputSeries(sampleReport({ progress, seconds: 10 }));
  assert.deepEqual(series.length, 40);
  for (const point of series) assert.deepEqual(point.rate, 20);
  const html = renderReportHtml(sampleReport({ progress, seconds: 10 }));
  const line = /<polyline class="rate-line" data-points="(\d+)" points="([^"]*)"/.exec(html)!;
  assert.deepEqual(Number(line[1]), 40);
  assert.deepEqual(line[2].split(" ").length, 40);
});

Deno.test("throughputSeries: no progress, no points; the count is conserved", () => {
  assert.deepEqual(throughputSeries(sampleReport({ progress: [] })), []);
  const series = throughputSeries(sampleReport());
  const width = 0.25;
  const total = series.reduce((sum, p) => sum + p.rate * width, 0);
  assert.deepEqual(Math.round(total), 10);
});

Deno.test("sequential runs say why there is no worker timeline; empty runs render", () => {
  const html = renderReportHtml(
    sampleReport({ mode: "sequential", workers: [], cpu: [], progress: [], total: 0 }),
  );
  assertIncludes(html, "A sequential run");
  assertIncludes(html, "no CPU samples");
  assertIncludes(html, "no images completed");
});

Deno.test("the token never reaches the page", () => {
  const parsed = parseJob(
    "serve",
    ["-i", "/in", "-o", "/out", "--token", "s3cret-token"],
    "/",
  );
  if (parsed.kind !== "job") throw new Error("expected a job");
  const html = renderReportHtml(sampleReport({ mode: "serve", job: parsed.job }));
  assert.ok(!html.includes("s3cret-token"));
  assertIncludes(html, "set (hidden)");
});

Deno.test("long failure lists are cut at MAX_TABLE_ROWS rows, with a count of the rest", () => {
  const failed = Array.from({ length: MAX_TABLE_ROWS + 7 }, (_, i) => ({
    path: `f${i}.jpg`,
    error: "not a JPEG, PNG, WebP, AVIF, HEIC or GIF file",
  }));
  const html = renderReportHtml(sampleReport({ failed }));
  assert.deepEqual(count(html, /<td class="path">/g), MAX_TABLE_ROWS + 1); // + the warning row
  assertIncludes(html, "… and 7 more");
});

Deno.test("the command line repeats the job, quoting what a shell would split", () => {
  const report = sampleReport({}, [
    "--size",
    "512",
    "512",
    "--op",
    "gray",
    "--pattern",
    "my photos/*.jpg",
  ]);
  const line = jobCommandLine(report.job);
  assertIncludes(line, "zpix parallel --input /in --output /out");
  assertIncludes(line, "--op resize=512x512 --op to_gray");
  assertIncludes(line, "--pattern 'my photos/*.jpg'");
  assert.deepEqual(shellQuote("it's"), `'it'\\''s'`);
});

Deno.test("helpers: ticks, durations, straggler threshold", () => {
  assert.deepEqual(niceTicks(1.43), [0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4]);
  assert.deepEqual(niceTicks(13.6, 4, true), [0, 5, 10, 15]);
  assert.deepEqual(formatSeconds(0.85), "850ms");
  assert.deepEqual(formatSeconds(65), "1m05s");
  assert.deepEqual(slowThreshold([]), Infinity);
});

/** `durations` ms back to back from 100 ms, as a worker's spans, all successful. */
function spansOf(durations: number[], first = 0): Span[] {
  let t = 100;
  return durations.map((d, i) => {
    const span = { task: first + i, start: t, end: t + d, ok: true, input: `f${first + i}.jpg` };
    t += d + 1;
    return span;
  });
}

Deno.test("warm-up: a worker's slow first tasks are not stragglers, nor in the median", () => {
  // Four workers whose first task took 1 s and the next 20 ms: the threshold comes from the
  // 20 ms tasks (taken with the first ones, the median would be the 1 s of a first task).
  const workers = ["w1", "w2", "w3", "w4"].map((id, w) => ({
    ...sampleReport().workers[0],
    id,
    spans: spansOf([1000, 20], 2 * w),
  }));
  assert.deepEqual(slowThreshold(workers), 60);
  // A worker warms up until its first task at normal speed: 300, 200, 100 ms, then 20 ms.
  const usual = Array(20).fill(20);
  const kinds = workerSpanKinds(spansOf([300, 200, 100, ...usual, 300, ...usual]), 60);
  assert.deepEqual(kinds.slice(0, 4), ["warmup", "warmup", "warmup", "ok"]);
  assert.deepEqual(kinds.filter((k) => k === "slow").length, 1, "the later 300 ms task");
  assert.deepEqual(kinds[23], "slow");
  // A worker slow all along: at most WARMUP_MAX_TASKS tasks are warm-up, the rest stragglers.
  const slow = workerSpanKinds(spansOf(Array(8).fill(300)), 60);
  assert.deepEqual(slow.filter((k) => k === "warmup").length, WARMUP_MAX_TASKS);
  assert.deepEqual(slow.filter((k) => k === "slow").length, 8 - WARMUP_MAX_TASKS);
  // Spans out of order in the report are judged in the order they were held.
  const shuffled = spansOf([300, 20, 300]).reverse();
  assert.deepEqual(workerSpanKinds(shuffled, 60), ["slow", "ok", "warmup"]);
  // On the page: a warm-up bar, with its own legend entry.
  const report = sampleReport();
  report.workers[0].spans = spansOf([300, 200, ...usual, 300]);
  report.workers[1].spans = spansOf([250, ...usual], 100);
  const html = renderReportHtml(report);
  assert.deepEqual(count(html, /class="bar warmup"/g), 3);
  assert.deepEqual(count(html, /class="bar slow"/g), 1);
  assertIncludes(html, "warm-up: a worker's first tasks");
});

Deno.test("timeline tooltips name the input file", () => {
  const html = renderReportHtml(sampleReport());
  const titles = [...html.matchAll(/<rect class="bar [^>]*><title>([^<]*)<\/title>/g)].map((m) =>
    m[1]
  );
  assert.deepEqual(titles.length, 10);
  assert.ok(titles.every((t) => /· photos\/img\d+\.jpg · \d+ ms · /.test(t)), titles[0]);
  assertIncludes(html, "w1 · photos/img8.jpg · 700 ms · straggler");
  // An old report without input paths still says which task.
  const old = sampleReport();
  for (const w of old.workers) for (const s of w.spans) delete s.input;
  assertIncludes(renderReportHtml(old), "w1 · task 0 · 100 ms");
});

Deno.test("throughput chart: the axis title stands by its ticks, the mean's label above the plot", () => {
  const svg =
    /<svg[^>]*data-chart="throughput"[\s\S]*?<\/svg>/.exec(renderReportHtml(sampleReport()))![0];
  const title = /<text class="axis-title" x="([\d.]+)" y="([\d.]+)"[^>]*rotate\(-90/.exec(svg)!;
  const left = CHART.label;
  assert.ok(+title[1] < left - 6 && +title[1] > left - 80, `title at x=${title[1]}`);
  const top = Math.min(...[...svg.matchAll(/class="tick y-tick" x="[\d.]+" y="([\d.]+)"/g)].map(
    (m) => +m[1] - 4,
  ));
  const mean = /class="tick mean-label" x="[\d.]+" y="([\d.]+)"/.exec(svg)!;
  const curve = /class="rate-line"[^>]*points="([^"]*)"/.exec(svg)![1].split(" ").map((p) =>
    +p.split(",")[1]
  );
  assert.ok(+mean[1] + 3 < top, "the mean's label is above the plot");
  assert.ok(curve.every((y) => y >= top), "the curve stays in the plot");
});

Deno.test("20,000 tasks: pixel-wide columns, every failure and straggler marked, size bounded", () => {
  const report = syntheticReport(20_000, 8);
  const html = renderReportHtml(report);
  const timeline = /<svg[^>]*data-chart="workers"[\s\S]*?<\/svg>/.exec(html)![0];
  assertIncludes(timeline, 'data-binned="true"');
  assert.deepEqual(count(timeline, /<rect class="bar /g), 0);
  const marks = (kind: string) =>
    [...timeline.matchAll(new RegExp(`class="mark ${kind}"[^>]*data-tasks="(\\d+)"`, "g"))]
      .reduce((n, m) => n + Number(m[1]), 0);
  const spans = report.workers.flatMap((w) => w.spans);
  assert.deepEqual(marks("failed"), spans.filter((s) => s.ok === false).length);
  assert.deepEqual(marks("lost"), 1);
  assert.ok(marks("slow") >= 15, `${marks("slow")} stragglers marked`);
  assert.deepEqual(marks("warmup"), 3 * 8);
  // Failures' tooltips name their files.
  for (const failure of report.failed) assertIncludes(timeline, failure.path);
  // The idle gap of w3 (20-25 s) shows as track with no column over it.
  const plot = CHART.width - CHART.label - CHART.right;
  const at = (t: number) => CHART.label + (t / report.seconds) * plot;
  const w3 = timeline.split('data-worker="w3"')[1].split("</g>")[0];
  const covered = [...w3.matchAll(/class="bin q\d" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)]
    .some((m) => +m[1] < at(24) && +m[1] + +m[2] > at(21));
  assert.ok(!covered, "w3's idle gap is drawn busy");
  // Bounded: whatever the task count, a few rects per plot unit and row.
  const rects = count(timeline, /<rect /g);
  assert.ok(rects < 8 * 60, `${rects} rects`);
  console.log(
    `20,000 tasks: page ${(html.length / 1024).toFixed(0)} KiB, timeline SVG ${
      (timeline.length / 1024).toFixed(1)
    } KiB (${rects} rects)`,
  );
  assert.ok(timeline.length < 64 * 1024, `timeline SVG ${timeline.length} bytes`);
  assertIncludes(html, `over ${MAX_BARS_PER_ROW} in a row, drawn as pixel-wide columns`);
  assertIncludes(html, syntheticPath(700));
});

Deno.test("binned timeline: even a worst case stays under two rects per plot unit and row", () => {
  // 20,000 tasks of random length with random gaps on one worker: every column differs.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let t = 0;
  const spans: Span[] = Array.from({ length: 20_000 }, (_, task) => {
    const start = t + Math.round(random() * 6);
    t = start + 1 + Math.round(random() * 6);
    return { task, start, end: t, ok: random() > 0.01, input: `${task}.jpg` };
  });
  const report = sampleReport({ seconds: t / 1000, progress: [[t / 1000, 20_000]] });
  report.workers = [{ ...report.workers[0], spans }];
  const timeline =
    /<svg[^>]*data-chart="workers"[\s\S]*?<\/svg>/.exec(renderReportHtml(report))![0];
  const plot = CHART.width - CHART.label - CHART.right;
  assert.ok(count(timeline, /<rect /g) < 2 * plot, `${count(timeline, /<rect /g)} rects`);
});

Deno.test("CPU: the machine's rows say so; zpix's own row and CPU time beside them", () => {
  const report = syntheticReport(20_000, 8);
  const html = renderReportHtml(report);
  assertIncludes(html, "CPU use: the machine's and zpix's own");
  assertIncludes(html, `data-core="machine" data-mean="98"`);
  // Server 0.02 s per 0.25 s sample, eight workers at 0.9 s per s: 7.28 of 8 cores.
  assertIncludes(html, `data-core="zpix" data-mean="91"`);
  assertIncludes(html, "zpix's own CPU time: <strong");
  assert.match(html, /server 4\.\d+ s, workers [\d.]+ s: w1 [\d.]+ s/);
  // Without zpix's own figures (older reports) there is no zpix row, and the page says so.
  const old = renderReportHtml(sampleReport());
  assert.ok(!old.includes(`data-core="zpix"`));
  assertIncludes(old, "zpix's own CPU time was not recorded");
});

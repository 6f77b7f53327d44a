/**
 * The run report as one self-contained HTML page (`--report run.html`):
 * totals and throughput, images per second over time, a timeline row per
 * worker (a bar per task, so idle gaps and stragglers show), CPU use per
 * core, mean stage times, failures and warnings with their messages, and
 * the pipeline and flags used. Inline CSS, SVG and a small script (a time
 * cursor across the charts); nothing is loaded from anywhere. Every string
 * from the run (file names, messages, paths) is escaped.
 *
 * @module
 */

import type { Job } from "../core/job.ts";
import { formatStep } from "../ops/pipeline.ts";
import { EXTENSIONS } from "../ops/formats.ts";
import { redactReport, type Report } from "./report.ts";
import { cpuChart, cpuSummary } from "./cpu_chart.ts";
import { MAX_BARS_PER_ROW, timelineBinned, WARMUP_MAX_TASKS, workerTimeline } from "./timeline.ts";
import { runDuration, throughputChart } from "./charts.ts";
import { escapeHtml, formatSeconds } from "./format.ts";

/** Rows shown per failure/warning table; the rest are counted, and are in the embedded JSON. */
export const MAX_TABLE_ROWS = 500;

/** Quotes one argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The job as a command line that repeats it (the token is never shown). */
export function jobCommandLine(job: Job): string {
  const input = job.only === null ? job.input : `${job.input}/${job.only}`;
  const args = ["zpix", job.mode, "--input", input, "--output", job.output];
  if (job.pattern !== null) args.push("--pattern", job.pattern);
  if (job.recursive) args.push("--recursive");
  if (job.name !== null) args.push("--name", job.name);
  for (const step of job.pipeline.steps) args.push("--op", formatStep(step));
  const p = job.pipeline;
  args.push("--format", p.format, "--quality", String(p.quality), "--encoder", p.encoder);
  if (p.keepIcc) args.push("--keep-icc");
  if (p.keepMetadata) args.push("--keep-metadata");
  args.push("--max-pixels", String(p.maxPixels));
  if (job.skipExisting) args.push("--skip-existing");
  if (job.mode !== "sequential") {
    args.push("--workers", String(job.workers), "--task-timeout", String(job.taskTimeout));
    args.push("--max-attempts", String(job.maxAttempts));
    if (job.maxTasksPerWorker) args.push("--max-tasks-per-worker", String(job.maxTasksPerWorker));
  }
  if (job.mode === "serve" && job.bind) args.push("--bind", job.bind);
  if (job.token) args.push("--token", "…");
  for (const report of job.reports) args.push("--report", report);
  return args.map(shellQuote).join(" ");
}

/** JSON safe inside `<script type="application/json">`. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

function card(label: string, value: string, note = "", kind = ""): string {
  return `<div class="card ${kind}" data-total="${
    escapeHtml(label)
  }"><div class="value">${value}</div>` +
    `<div class="label">${escapeHtml(label)}</div>${
      note ? `<div class="note">${note}</div>` : ""
    }</div>`;
}

function totals(report: Report): string {
  const workers = report.workers.length;
  const perImage = report.processed ? (1000 * report.seconds) / report.processed : 0;
  return `<section class="cards">${
    [
      card(
        "processed",
        `${report.processed}<span class="of">/${report.total}</span>`,
        report.skipped ? `${report.skipped} skipped (already done)` : "",
      ),
      card("failed", String(report.failed.length), "", report.failed.length ? "bad" : ""),
      card("warnings", String(report.warnings.length), "", report.warnings.length ? "warn" : ""),
      card("wall time", escapeHtml(formatSeconds(report.seconds))),
      card(
        "images / second",
        String(report.imagesPerSecond),
        report.processed ? `${perImage.toFixed(0)} ms per image` : "",
      ),
      card(
        report.mode === "sequential" ? "process" : "workers",
        report.mode === "sequential" ? "1" : String(workers),
      ),
    ].join("")
  }</section>`;
}

function stages(report: Report): string {
  const s = report.stages;
  const rows: [string, number, boolean][] = [
    ["read", s.read, false],
    ["decode", s.decode, false],
    ["ops", s.ops, false],
    ...Object.entries(s.steps).map(([k, v]): [string, number, boolean] => [k, v, true]),
    ["encode", s.encode, false],
    ["write", s.write, false],
    ["messaging & scheduling", s.overhead, false],
  ];
  const max = Math.max(0.001, ...rows.map(([, v]) => v));
  return `<table class="stages">${
    rows.map(([name, ms, sub]) =>
      `<tr class="${sub ? "sub" : ""}"><th>${escapeHtml(name)}</th><td class="num">${
        ms.toFixed(2)
      } ms</td><td class="barcell"><div class="hbar" style="width:${
        ((100 * ms) / max).toFixed(1)
      }%"></div></td></tr>`
    ).join("")
  }</table>`;
}

function problemTable(
  kind: "failures" | "warnings",
  rows: { path: string; message: string }[],
): string {
  if (!rows.length) {
    return `<p class="ok-note">${kind === "failures" ? "No image failed." : "No warnings."}</p>`;
  }
  const shown = rows.slice(0, MAX_TABLE_ROWS);
  const more = rows.length - shown.length;
  return `<table class="problems ${kind}"><thead><tr><th>file</th><th>message</th></tr></thead><tbody>${
    shown.map((r) =>
      `<tr><td class="path">${escapeHtml(r.path)}</td><td class="message">${
        escapeHtml(r.message)
      }</td></tr>`
    ).join("")
  }</tbody></table>${
    more ? `<p class="muted">… and ${more} more (all are in the embedded JSON).</p>` : ""
  }`;
}

function settings(report: Report): string {
  const job = report.job;
  const p = job.pipeline;
  const rows: [string, string][] = [
    ["mode", job.mode],
    ["input", job.input],
    ["output", job.output],
    ["pattern", job.pattern ?? `${EXTENSIONS.map((ext) => `*.${ext}`).join(", ")} (any case)`],
    ["recursive", job.recursive ? "yes" : "no"],
    ["pipeline", report.pipeline.join(" → ") || "(none)"],
    ["format", p.format],
    ["JPEG quality / encoder", `${p.quality} / ${p.encoder}`],
    ["max pixels", String(p.maxPixels)],
    ["skip existing", job.skipExisting ? "yes" : "no"],
  ];
  if (job.mode !== "sequential") {
    rows.push(
      ["workers", String(job.workers)],
      ["task timeout", `${job.taskTimeout} s`],
      ["max attempts", String(job.maxAttempts)],
      ["max tasks per worker", job.maxTasksPerWorker ? String(job.maxTasksPerWorker) : "unlimited"],
    );
  }
  if (job.mode === "serve") {
    rows.push(["bind", job.bind ?? "127.0.0.1"], ["token", job.token ? "set (hidden)" : "none"]);
  }
  return `<pre class="command" data-command>${escapeHtml(jobCommandLine(job))}</pre>` +
    `<table class="settings">${
      rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")
    }</table>`;
}

function legend(binned: boolean): string {
  return `<div class="legend">${
    binned
      ? `<span><i class="sw ok"></i>busy (column height: share of the time a task was held)</span>`
      : `<span><i class="sw ok"></i>task done</span>`
  }<span><i class="sw warmup"></i>warm-up: a worker's first tasks, slow while it starts (at most ${WARMUP_MAX_TASKS})</span>` +
    `<span><i class="sw slow"></i>straggler (over 3× the median task)</span>` +
    `<span><i class="sw failed"></i>task failed</span>` +
    `<span><i class="sw lost"></i>worker lost during task (retried)</span>` +
    `<span><i class="sw idle"></i>idle: no task held</span></div>`;
}

const cpuSeconds = (s: number) => `${s.toFixed(s < 10 ? 2 : 1)} s`;

/** The CPU section's words: the machine's use, all programs, and zpix's own CPU time. */
function cpuNote(report: Report): string {
  const c = cpuSummary(report);
  const parts: string[] = [];
  if (c.cores) {
    parts.push(
      `The machine (${c.cores} cores) was ${
        Math.round(100 * c.machine)
      }% busy on average: every program on it, zpix included.`,
    );
  }
  const workers = c.workers.reduce((sum, w) => sum + w.seconds, 0);
  if (c.server !== null || c.workers.length) {
    const own = (c.server ?? 0) + workers;
    const wall = report.seconds > 0 ? report.seconds : 0;
    parts.push(
      `zpix's own CPU time: <strong data-cpu="zpix">${cpuSeconds(own)}</strong> (${
        report.mode === "sequential" && !c.workers.length
          ? "its one process: a sequential run"
          : `server ${c.server === null ? "not recorded" : cpuSeconds(c.server)}, workers ${
            cpuSeconds(workers)
          }${
            c.workers.length
              ? `: ${
                c.workers.map((w) =>
                  `${escapeHtml(w.id)} ${cpuSeconds(w.seconds)}${w.local ? "" : " (remote)"}`
                ).join(", ")
              }`
              : ""
          }`
      })${
        wall ? `, ${(own / wall).toFixed(2)} cores on average over ${formatSeconds(wall)}` : ""
      }.${
        c.workers.length
          ? " Workers' times are their whole processes' (start-up included), as of their last result."
          : ""
      }`,
    );
  } else if (report.mode !== "sequential" || c.cores) {
    parts.push("zpix's own CPU time was not recorded in this report.");
  }
  return parts.length ? `<p class="chart-note" data-cpu-note>${parts.join(" ")}</p>` : "";
}

function timelines(report: Report): string {
  const duration = runDuration(report);
  const binned = timelineBinned(report);
  const tasks = report.workers.reduce((n, w) => n + w.spans.length, 0);
  const workers = report.workers.length
    ? legend(binned) + workerTimeline(report, duration)
    : `<p class="muted">A sequential run: one process did every image in turn, so there is no per-worker timeline.</p>`;
  const how = binned
    ? `one row per worker; ${tasks} tasks, over ${MAX_BARS_PER_ROW} in a row, drawn as pixel-wide columns`
    : "one row per worker, one bar per task";
  return `<section><h2>Images per second</h2>${throughputChart(report, duration)}</section>
<section><h2>Workers <span class="muted">${how}</span></h2>${workers}</section>
<section><h2>CPU use: the machine's and zpix's own <span class="muted">${report.cpu.length} sample${
    report.cpu.length === 1 ? "" : "s"
  }; machine and per-core rows from /proc/stat (all programs), the zpix row from the server's and workers' process CPU time; 0–100% of the machine per row</span></h2>${
    cpuNote(report)
  }${cpuChart(report, duration)}</section>
`;
}

function status(report: Report): [string, string] {
  if (report.interrupted) return ["interrupted", "warn"];
  if (report.failed.length) return [`${report.failed.length} failed`, "bad"];
  return [report.total ? "all images done" : "no images found", "good"];
}

const STYLE = `
:root{--fg:#1f2933;--muted:#65748b;--line:#e4e7ec;--bg:#f6f7f9;--card:#fff;--ok:#3b82f6;
--slow:#7c3aed;--warmup:#93c5fd;--bad:#dc2626;--warn:#d97706;--good:#15803d}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 40px}
header{display:flex;align-items:baseline;gap:14px;flex-wrap:wrap}
h1{font-size:24px;margin:0}
h2{font-size:16px;margin:0 0 10px}
h2 .muted{font-weight:normal;font-size:13px;margin-left:6px}
.muted{color:var(--muted)}
.badge{padding:2px 10px;border-radius:999px;font-weight:600;font-size:13px;color:#fff}
.badge.good{background:var(--good)}.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}
.sub-head{margin:4px 0 18px;color:var(--muted)}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:0 0 16px;overflow-x:auto}
section.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;background:none;border:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card .value{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums}
.card .of{font-size:16px;color:var(--muted);font-weight:500}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .note{color:var(--muted);font-size:12px;margin-top:2px}
.card.bad .value{color:var(--bad)}.card.warn .value{color:var(--warn)}
svg.chart{display:block;font-size:12px;max-width:100%;height:auto}
svg.chart.laid{width:100%;max-width:none;min-width:480px}
svg .grid{stroke:var(--line);stroke-width:1}
svg .tick{fill:var(--muted);font-size:11px}
svg .axis-title{fill:var(--muted);font-size:12px}
svg .grid,svg .rate-line,svg .mean,svg .cpu-line,svg .cursor{vector-effect:non-scaling-stroke}
svg .row-label{fill:var(--fg);font-size:12px}
svg .worker-id{font-weight:600}
svg .muted{fill:var(--muted)}
svg .track{fill:#eef1f5}
svg .bar.ok,svg .bin{fill:var(--ok)}svg .warmup{fill:var(--warmup)}svg .slow{fill:var(--slow)}
svg .failed{fill:var(--bad)}svg .lost{fill:var(--warn)}
svg .bar:hover,svg .bin:hover,svg .mark:hover{opacity:.7}
svg .rate-area{fill:rgba(59,130,246,.15)}
svg .rate-line{fill:none;stroke:var(--ok);stroke-width:2;stroke-linejoin:round}
svg .mean{stroke:var(--good);stroke-dasharray:5 4;stroke-width:1.5}
svg .mean-label{fill:var(--good)}
svg .cpu-area{fill:rgba(21,128,61,.22)}
svg .cpu-line{fill:none;stroke:var(--good);stroke-width:1.2;stroke-linejoin:round}
svg .cpu-row.all .cpu-area{fill:rgba(21,128,61,.38)}
svg .cpu-row.zpix .cpu-area{fill:rgba(59,130,246,.38)}svg .cpu-row.zpix .cpu-line{stroke:var(--ok)}
.chart-note{margin:0 0 10px;color:var(--fg)}
svg .empty{fill:var(--muted)}
svg .cursor{stroke:#111;stroke-width:1;stroke-dasharray:2 2;pointer-events:none}
.legend{display:flex;gap:4px 18px;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:0 0 8px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-2px}
.sw.ok{background:var(--ok)}.sw.warmup{background:var(--warmup)}.sw.slow{background:var(--slow)}.sw.failed{background:var(--bad)}
.sw.lost{background:var(--warn)}.sw.idle{background:#eef1f5;border:1px solid var(--line)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase}
.problems .path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all;width:40%}
.failures .message{color:var(--bad)}.warnings .message{color:var(--warn)}
.stages th{width:200px;font-weight:500}.stages tr.sub th{padding-left:24px;color:var(--muted)}
.stages .num{width:100px;text-align:right;font-variant-numeric:tabular-nums}
.hbar{height:12px;background:var(--ok);border-radius:2px;min-width:1px}
.stages tr.sub .hbar{background:#93c5fd}
.settings th{width:200px;font-weight:500;color:var(--muted)}
.settings td{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
pre.command{background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:8px;white-space:pre-wrap;word-break:break-all;margin:0 0 12px;font-size:12.5px}
.ok-note{color:var(--good);margin:0}
#cursor-readout{position:fixed;pointer-events:none;background:#111;color:#fff;font-size:12px;padding:2px 6px;border-radius:4px;display:none}
footer{color:var(--muted);font-size:12px;text-align:center}
@media (max-width:900px){section.cards{grid-template-columns:repeat(3,1fr)}}
`;

/** A time cursor across the time charts, and local-time display of the start. Data stays inline. */
const SCRIPT = `
(() => {
  const data = JSON.parse(document.getElementById("zpix-report").textContent);
  const when = document.querySelector("[data-started]");
  if (when && data.startedAt) when.textContent = new Date(data.startedAt).toLocaleString();
  const charts = [...document.querySelectorAll("svg.time-chart")];
  // Lays each chart out at the width it is shown at, one user unit per CSS pixel: text keeps
  // its size and the label column its width; only the plot (and the texts placed in it) stretch.
  const layout = () => {
    for (const svg of charts) {
      svg.classList.add("laid");
      const width = Math.round(svg.getBoundingClientRect().width);
      const height = +svg.getAttribute("height");
      if (!width) continue;
      const left = +svg.dataset.plotLeft, base = +svg.dataset.plotBase;
      const plot = Math.max(40, base + width - +svg.dataset.width);
      const scale = plot / base;
      svg.setAttribute("viewBox", "0 0 " + width + " " + height);
      // (the width and height attributes set the aspect ratio CSS sizes it by: keep them in step)
      svg.setAttribute("width", width);
      svg.style.height = height + "px";
      svg.dataset.plotWidth = plot;
      svg.querySelector("g.plot").setAttribute(
        "transform", "translate(" + left + " 0) scale(" + scale + " 1) translate(" + -left + " 0)");
      let last = -Infinity;
      for (const text of svg.querySelectorAll("text.px")) {
        const px = left + (+text.dataset.x - left) * scale;
        text.setAttribute("x", px);
        // Time labels closer than 48 px to the last one shown are left out.
        const crowded = text.classList.contains("time-tick") && px - last < 48;
        text.style.display = crowded ? "none" : "";
        if (!crowded && text.classList.contains("time-tick")) last = px;
      }
    }
  };
  layout();
  addEventListener("resize", layout);
  const readout = document.getElementById("cursor-readout");
  const place = (t) => {
    for (const svg of charts) {
      const left = +svg.dataset.plotLeft, width = +svg.dataset.plotWidth;
      const px = t === null ? -10 : left + (t / +svg.dataset.duration) * width;
      const line = svg.querySelector(".cursor");
      line.setAttribute("x1", px); line.setAttribute("x2", px);
    }
  };
  for (const svg of charts) {
    svg.addEventListener("mousemove", (event) => {
      const box = svg.getBoundingClientRect();
      const scale = box.width / svg.viewBox.baseVal.width;
      const left = +svg.dataset.plotLeft, width = +svg.dataset.plotWidth;
      const u = (event.clientX - box.left) / scale;
      if (u < left || u > left + width) { place(null); readout.style.display = "none"; return; }
      const t = ((u - left) / width) * +svg.dataset.duration;
      place(t);
      readout.textContent = t.toFixed(2) + " s";
      readout.style.display = "block";
      readout.style.left = event.clientX + 12 + "px";
      readout.style.top = event.clientY + 12 + "px";
    });
    svg.addEventListener("mouseleave", () => { place(null); readout.style.display = "none"; });
  }
  document.documentElement.dataset.ready = "true";
})();
`;

/** Renders the run report as one self-contained HTML page. */
export function renderReportHtml(report: Report): string {
  const [statusText, statusKind] = status(report);
  const safe = redactReport(report);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>zpix run report — ${escapeHtml(report.processed)}/${escapeHtml(report.total)} images, ${
    escapeHtml(report.startedAt)
  }</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>zpix run report</h1><span class="badge ${statusKind}" data-status>${
    escapeHtml(statusText)
  }</span></header>
<p class="sub-head">${escapeHtml(report.mode)} run · started <span data-started>${
    escapeHtml(report.startedAt)
  }</span> · ${escapeHtml(report.pipeline.join(" → ") || "no ops")}${
    report.interrupted ? " · <strong>stopped early (SIGINT/SIGTERM)</strong>" : ""
  }</p>
${totals(report)}
${timelines(report)}
<section><h2>Failures <span class="muted">${report.failed.length}</span></h2>${
    problemTable("failures", report.failed.map((f) => ({ path: f.path, message: f.error })))
  }</section>
${
    report.warnings.length
      ? `<section><h2>Warnings <span class="muted">${report.warnings.length}</span></h2>${
        problemTable("warnings", report.warnings.map((w) => ({ path: w.path, message: w.warning })))
      }</section>`
      : ""
  }
<section><h2>Time per image, by stage <span class="muted">mean over successful images</span></h2>${
    stages(report)
  }</section>
<section><h2>Pipeline and flags</h2>${settings(report)}</section>
<footer>Written by zpix. The full report data is embedded in this page (script#zpix-report).</footer>
</main>
<div id="cursor-readout"></div>
<script type="application/json" id="zpix-report">${scriptJson(safe)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

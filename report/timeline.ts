/**
 * The report page's timeline: one row per worker, a bar per task, coloured
 * by what it means (done, warm-up, straggler, failed, lost); past
 * {@link MAX_BARS_PER_ROW} tasks in a row, pixel-wide columns. Shares the
 * time axis and frame of `charts.ts`.
 *
 * @module
 */

import type { Report, WorkerReport } from "./report.ts";
import type { Span } from "../core/results.ts";
import { escapeHtml, formatSeconds } from "./format.ts";
import { CHART, PLOT, round1, runDuration, svg, timeGrid, xAt } from "./charts.ts";

/** Spans longer than this many times the median successful span are marked slow. */
export const SLOW_FACTOR = 3;

/**
 * The most tasks of one worker that can count as its warm-up (see
 * {@link workerSpanKinds}).
 */
export const WARMUP_MAX_TASKS = 5;

/** What a span's bar means (its CSS class and legend entry). */
export type SpanKind = "ok" | "warmup" | "slow" | "failed" | "lost";

/** What a span's bar means, warm-up aside (see {@link workerSpanKinds}). */
export function spanKind(span: Span, slowMs: number): Exclude<SpanKind, "warmup"> {
  if (span.ok === null) return "lost";
  if (!span.ok) return "failed";
  return span.end - span.start > slowMs ? "slow" : "ok";
}

/** A worker's spans in the order it held them. */
function chronological(spans: readonly Span[]): number[] {
  return spans.map((_, i) => i).sort((a, b) => spans[a].start - spans[b].start || a - b);
}

/**
 * The duration above which a successful span counts as a straggler:
 * {@link SLOW_FACTOR} times the median successful span (and at least 20 ms
 * more), the median taken without each worker's first task. A worker's
 * first task pays for its start-up (codecs compiled, code not yet
 * optimised): several times a usual task, and one per worker, so with
 * many workers and few images the first tasks would pull the median up.
 */
export function slowThreshold(workers: readonly WorkerReport[]): number {
  const durations = workers.flatMap((w) =>
    chronological(w.spans).slice(1).map((i) => w.spans[i]).filter((s) => s.ok)
      .map((s) => s.end - s.start)
  ).sort((a, b) => a - b);
  if (durations.length < 4) return Infinity;
  const median = durations[Math.floor(durations.length / 2)];
  return Math.max(median * SLOW_FACTOR, median + 20);
}

/**
 * The kind of each of a worker's spans (in `spans` order). A worker warms
 * up: its first tasks run several times slower than later ones (measured:
 * 444, 117, 301, 209, 87 ms, then a median of 17 ms, on a loaded 2-core
 * machine), because each codec's WASM is compiled and the code optimised
 * on first use. Those are not slow images, so a worker's slow tasks before
 * its first task at normal speed (at most {@link WARMUP_MAX_TASKS} of them,
 * so that a worker slow all along is still seen) are "warmup", not "slow".
 * Failed and lost tasks are always shown as such.
 */
export function workerSpanKinds(spans: readonly Span[], slowMs: number): SpanKind[] {
  const kinds: SpanKind[] = new Array(spans.length);
  let warming = true, held = 0;
  for (const i of chronological(spans)) {
    const kind = spanKind(spans[i], slowMs);
    if (held++ >= WARMUP_MAX_TASKS) warming = false;
    kinds[i] = warming && kind === "slow" ? "warmup" : kind;
    if (kind === "ok") warming = false;
  }
  return kinds;
}

/**
 * A worker row with more tasks than this is drawn aggregated: bars would be
 * under ~3 px wide, a solid band with no gap or task to see.
 */
export const MAX_BARS_PER_ROW = 250;

/** Whether the timeline draws pixel-wide bins instead of one bar per task. */
export function timelineBinned(report: Report): boolean {
  return report.workers.some((w) => w.spans.length > MAX_BARS_PER_ROW);
}

/** The words for each kind of span in tooltips. */
const KIND_WORDS: Record<SpanKind, string> = {
  ok: "done",
  warmup: "warm-up (worker start)",
  slow: "straggler",
  failed: "failed",
  lost: "worker lost",
};

/** A span's name: its input file (older reports: its task number). */
const spanName = (s: Span) => s.input ?? `task ${s.task}`;

/** Up to three file names, and how many more. */
function someNames(spans: Span[]): string {
  const names = spans.slice(0, 3).map(spanName).join(", ");
  return spans.length > 3 ? `${names} and ${spans.length - 3} more` : names;
}

/** Draws one bar per task. */
function rowBars(w: WorkerReport, kinds: SpanKind[], y: number, h: number, duration: number) {
  return w.spans.map((s, i) => {
    const kind = kinds[i];
    const x0 = xAt(s.start / 1000, duration), x1 = xAt(s.end / 1000, duration);
    const width = Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 1 : 0));
    return `<rect class="bar ${kind}" x="${round1(x0)}" y="${y}" width="${
      round1(width)
    }" height="${h}"><title>${
      escapeHtml(`${w.id} · ${spanName(s)} · ${s.end - s.start} ms · ${KIND_WORDS[kind]}`)
    }</title></rect>`;
  }).join("");
}

/** Busy share of a pixel column, in quarters (0: idle; 4: busy throughout). */
const quarters = (share: number) => (share >= 0.995 ? 4 : Math.ceil(share * 4 - 1e-9));

/**
 * Draws a worker's tasks as one-unit-wide columns (one per pixel of the plot
 * at 100 %): each column's height is the share of its time the worker held a
 * task (in quarters), runs of equal columns merged into one rect. Failed,
 * lost, straggling and warm-up tasks are drawn over them, full height and at
 * least 3 units wide, neighbours of one kind merged, their tooltips naming
 * the files. At most a few rects per plot unit, whatever the task count.
 */
function rowBins(w: WorkerReport, kinds: SpanKind[], y: number, h: number, duration: number) {
  const bins = Math.round(PLOT);
  const binMs = (duration * 1000) / bins;
  const busy = new Float64Array(bins);
  const started: Span[][] = Array.from({ length: bins }, () => []);
  const clamp = (b: number) => Math.min(bins - 1, Math.max(0, b));
  for (const s of w.spans) {
    const b0 = clamp(Math.floor(s.start / binMs)), b1 = clamp(Math.floor((s.end - 1e-6) / binMs));
    started[b0].push(s);
    for (let b = b0; b <= b1; b++) {
      busy[b] += Math.max(0, Math.min(s.end, (b + 1) * binMs) - Math.max(s.start, b * binMs));
    }
  }
  const unit = PLOT / bins;
  let out = "";
  for (let b = 0; b < bins;) {
    const q = quarters(busy[b] / binMs);
    let e = b + 1;
    while (e < bins && quarters(busy[e] / binMs) === q) e++;
    if (q > 0) {
      const spans = started.slice(b, e).flat();
      const share = busy.slice(b, e).reduce((a, v) => a + v, 0) / ((e - b) * binMs);
      const bh = round1((h * q) / 4);
      const what = spans.length <= 3 && spans.length ? ` · ${someNames(spans)}` : "";
      out += `<rect class="bin q${q}" x="${round1(CHART.label + b * unit)}" y="${
        round1(y + h - bh)
      }" width="${round1((e - b) * unit)}" height="${bh}"><title>${
        escapeHtml(
          `${w.id} · ${formatSeconds((b * binMs) / 1000)}–${formatSeconds((e * binMs) / 1000)} · ${
            Math.round(100 * share)
          }% busy · ${spans.length} task${spans.length === 1 ? "" : "s"} started${what}`,
        )
      }</title></rect>`;
    }
    b = e;
  }
  // The marks: every span that is not a plain success, grouped by kind when they touch.
  const marked = chronological(w.spans).filter((i) => kinds[i] !== "ok");
  for (const kind of ["warmup", "slow", "lost", "failed"] as const) {
    const group: Span[] = [];
    let x0 = 0, x1 = 0;
    const flush = () => {
      if (!group.length) return;
      out += `<rect class="mark ${kind}" x="${round1(x0)}" y="${y}" width="${
        round1(Math.max(3, x1 - x0))
      }" height="${h}" data-tasks="${group.length}"><title>${
        escapeHtml(
          `${w.id} · ${someNames(group)} · ${
            group.length === 1 ? `${group[0].end - group[0].start} ms · ` : ""
          }${KIND_WORDS[kind]}`,
        )
      }</title></rect>`;
      group.length = 0;
    };
    for (const i of marked) {
      if (kinds[i] !== kind) continue;
      const s = w.spans[i];
      const s0 = xAt(s.start / 1000, duration), s1 = xAt(s.end / 1000, duration);
      if (group.length && s0 > Math.max(x1, x0 + 3) + unit) flush();
      if (!group.length) x0 = s0;
      x1 = Math.max(group.length ? x1 : s1, s1);
      group.push(s);
    }
    flush();
  }
  return out;
}

/**
 * One timeline row per worker: one bar per task it held, or, past
 * {@link MAX_BARS_PER_ROW} tasks in a row, pixel-wide columns (see
 * `rowBins`) so that the SVG stays readable and its size bounded.
 */
export function workerTimeline(report: Report, duration = runDuration(report)): string {
  const rowH = 22, top = 4;
  const slowMs = slowThreshold(report.workers);
  const binned = timelineBinned(report);
  const workers = [...report.workers].sort((a, b) =>
    a.id.localeCompare(b.id, "en", { numeric: true })
  );
  let fixed = "", plot = "";
  workers.forEach((w, i) => {
    const y = top + i * rowH;
    const busy = w.busySeconds + w.idleSeconds > 0
      ? Math.round((100 * w.busySeconds) / (w.busySeconds + w.idleSeconds))
      : 0;
    const where = [w.host && w.host !== "local" ? w.host : "", w.pid ? `pid ${w.pid}` : ""]
      .filter(Boolean).join(" ");
    const kinds = workerSpanKinds(w.spans, slowMs);
    const bars = binned
      ? rowBins(w, kinds, y + 3, rowH - 6, duration)
      : rowBars(w, kinds, y + 3, rowH - 6, duration);
    fixed += `<text class="row-label" x="4" y="${y + 15}"><tspan class="worker-id">${
      escapeHtml(w.id)
    }</tspan><tspan class="muted" dx="6">${w.processed} ok${
      w.failed ? ` · ${w.failed} failed` : ""
    } · ${busy}% busy</tspan><title>${escapeHtml(where)}</title></text>`;
    plot +=
      `<g class="worker-row" data-worker="${escapeHtml(w.id)}" data-bars="${w.spans.length}">` +
      `<rect class="track" x="${CHART.label}" y="${y + 2}" width="${PLOT}" height="${
        rowH - 4
      }"/>${bars}</g>`;
  });
  const bottom = top + report.workers.length * rowH;
  const [grid, texts] = timeGrid(duration, top, bottom);
  return svg(
    "workers",
    bottom + 20,
    { fixed, plot: grid + plot, texts },
    "tasks per worker over time",
    duration,
    binned ? ` data-binned="true"` : "",
  );
}

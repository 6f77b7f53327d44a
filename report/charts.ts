/**
 * The run report page's charts, as inline SVG strings: images per second,
 * one timeline row per worker, CPU use (the machine's and zpix's own). All
 * three share one time axis (same width, same left label column), so an
 * idle gap in a worker's row lines up with the dip it causes in throughput
 * and CPU use.
 *
 * Each SVG has a fixed-width label column (row labels, y ticks, axis title)
 * and a plot: the graphics inside `<g class="plot">`, the texts placed in
 * plot coordinates marked `class="… px"` with their `data-x`. The page's
 * script re-lays a chart to the width it is shown at (see `html.ts`): the
 * SVG's user unit stays one CSS pixel, so text keeps its size at any page
 * width, and only the plot stretches or shrinks. Without the script the
 * SVG scales as a whole.
 *
 * Pure functions of the {@link Report}; no DOM, no I/O.
 *
 * @module
 */

import type { Report, WorkerReport } from "./report.ts";
import type { CpuSample, Span } from "../core/results.ts";
import { escapeHtml, formatSeconds } from "./format.ts";

/** Chart geometry, in SVG user units (CSS pixels at 100 %). */
export const CHART = {
  /** Whole SVG width. */
  width: 1060,
  /** Left column for row labels. */
  label: 210,
  /** Right padding. */
  right: 14,
} as const;

const PLOT = CHART.width - CHART.label - CHART.right;

/** The run's time span in seconds: the longest of wall time, spans, samples and progress. */
export function runDuration(report: Report): number {
  let end = report.seconds;
  for (const w of report.workers) {
    for (const s of w.spans) end = Math.max(end, s.end / 1000);
  }
  for (const c of report.cpu) end = Math.max(end, c.t);
  for (const [t] of report.progress) end = Math.max(end, t);
  return end > 0 ? end : 1;
}

/**
 * Evenly spaced "nice" tick values from 0 up to `max` (about `target` of
 * them); with `cover`, one more so that the last tick is at least `max`.
 */
export function niceTicks(max: number, target = 8, cover = false): number[] {
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? power * 10;
  const ticks: number[] = [];
  for (let i = 0; i * step <= max + step * 1e-9; i++) {
    ticks.push(Number((i * step).toPrecision(12)));
  }
  if (cover && ticks[ticks.length - 1] < max) {
    ticks.push(Number((ticks.length * step).toPrecision(12)));
  }
  return ticks;
}

/** One point of the throughput chart: images completed per second in a time bucket. */
export interface RatePoint {
  /** Bucket middle, seconds since start. */
  t: number;
  /** Images completed per second in the bucket. */
  rate: number;
}

/**
 * Images per second over time, from the report's cumulative progress
 * points: buckets of max(0.25 s, duration / 120), the count at each edge
 * interpolated linearly between recorded points.
 */
export function throughputSeries(report: Report): RatePoint[] {
  const points: [number, number][] = [[0, 0], ...report.progress];
  if (report.progress.length === 0) return [];
  const end = Math.max(report.seconds, points[points.length - 1][0]);
  if (end <= 0) return [];
  const width = Math.max(0.25, end / 120);
  const at = (t: number): number => {
    for (let i = 1; i < points.length; i++) {
      const [t1, n1] = points[i];
      if (t <= t1) {
        const [t0, n0] = points[i - 1];
        return t1 > t0 ? n0 + ((n1 - n0) * (t - t0)) / (t1 - t0) : n1;
      }
    }
    return points[points.length - 1][1];
  };
  const series: RatePoint[] = [];
  for (let start = 0; start < end - 1e-9; start += width) {
    const stop = Math.min(end, start + width);
    const rate = (at(stop) - at(start)) / (stop - start);
    series.push({ t: (start + stop) / 2, rate: Math.round(rate * 100) / 100 });
  }
  return series;
}

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

const x = (t: number, duration: number) => CHART.label + (t / duration) * PLOT;
const r1 = (v: number) => Math.round(v * 10) / 10;

/** A text placed in plot coordinates: the page's layout script moves it with the plot. */
function plotText(px: number, y: number, cls: string, content: string, anchor = "start"): string {
  return `<text class="${cls} px" x="${px}" data-x="${px}" y="${y}" text-anchor="${anchor}">${content}</text>`;
}

/** The grid lines and the tick labels of the shared time axis, for a plot `top`..`bottom`. */
function timeGrid(duration: number, top: number, bottom: number): [string, string] {
  const ticks = niceTicks(duration);
  const lines = ticks.map((t) => {
    const px = r1(x(t, duration));
    return `<line class="grid" x1="${px}" x2="${px}" y1="${top}" y2="${bottom}"/>`;
  }).join("");
  const labels = ticks.map((t) =>
    plotText(r1(x(t, duration)), bottom + 14, "tick time-tick", formatSeconds(t), "middle")
  ).join("");
  return [lines, labels];
}

/**
 * One chart: `fixed` is drawn as is (label column, legends at fixed places),
 * `plot` inside the group the layout script stretches, `texts` are
 * {@link plotText}s.
 */
function svg(
  kind: string,
  height: number,
  parts: { fixed?: string; plot: string; texts?: string },
  label: string,
  duration: number,
  attributes = "",
): string {
  return `<svg class="chart time-chart" data-chart="${kind}" data-duration="${duration}" role="img" aria-label="${
    escapeHtml(label)
  }" viewBox="0 0 ${CHART.width} ${height}" width="${CHART.width}" height="${height}" data-width="${CHART.width}" data-plot-left="${CHART.label}" data-plot-width="${PLOT}" data-plot-base="${PLOT}"${attributes}>${
    parts.fixed ?? ""
  }<g class="plot">${parts.plot}</g>${
    parts.texts ?? ""
  }<line class="cursor" x1="-10" x2="-10" y1="0" y2="${height}"/></svg>`;
}

/** Width of a tick label in user units, roughly (11 px system-ui digits). */
const textWidth = (text: string, px = 11) => text.length * px * 0.6;

/**
 * The images-per-second chart: an area with one vertex per bucket, and the
 * run's mean as a dashed line. The y-axis title stands along the axis, next
 * to its tick labels; the mean's label is in the legend above the plot, where
 * the curve (never above the top tick) cannot cross it.
 */
export function throughputChart(report: Report, duration = runDuration(report)): string {
  const series = throughputSeries(report);
  const top = 30, plotH = 120, bottom = top + plotH;
  const max = Math.max(1, ...series.map((p) => p.rate), report.imagesPerSecond);
  const yTicks = niceTicks(max, 4, true);
  const yMax = yTicks[yTicks.length - 1] || 1;
  const y = (v: number) => r1(bottom - (v / yMax) * plotH);
  const [grid, timeLabels] = timeGrid(duration, top, bottom);
  let plot = grid;
  plot += yTicks.map((v) =>
    `<line class="grid" x1="${CHART.label}" x2="${CHART.label + PLOT}" y1="${y(v)}" y2="${y(v)}"/>`
  ).join("");
  let fixed = yTicks.map((v) =>
    `<text class="tick y-tick" x="${CHART.label - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`
  ).join("");
  // Along the axis: rotated, its baseline just left of the widest tick label.
  const titleX = r1(CHART.label - 6 - Math.max(...yTicks.map((v) => textWidth(String(v)))) - 8);
  const titleY = (top + bottom) / 2;
  fixed +=
    `<text class="axis-title" x="${titleX}" y="${titleY}" text-anchor="middle" transform="rotate(-90 ${titleX} ${titleY})">images / second</text>`;
  if (series.length) {
    const pts = series.map((p) => `${r1(x(p.t, duration))},${y(p.rate)}`).join(" ");
    const first = r1(x(series[0].t, duration));
    const last = r1(x(series[series.length - 1].t, duration));
    plot += `<polygon class="rate-area" points="${first},${bottom} ${pts} ${last},${bottom}"/>`;
    plot += `<polyline class="rate-line" data-points="${series.length}" points="${pts}"/>`;
    const mean = y(report.imagesPerSecond);
    plot += `<line class="mean" x1="${CHART.label}" x2="${
      CHART.label + PLOT
    }" y1="${mean}" y2="${mean}"/>`;
    // The legend, above the plot.
    const ly = top - 14;
    fixed += `<line class="mean" x1="${CHART.label}" x2="${CHART.label + 24}" y1="${ly - 4}" y2="${
      ly - 4
    }"/><text class="tick mean-label" x="${
      CHART.label + 30
    }" y="${ly}">mean ${report.imagesPerSecond} img/s over the run</text>`;
  } else {
    fixed += `<text class="empty" x="${CHART.label + 8}" y="${
      top + 60
    }">no images completed</text>`;
  }
  return svg(
    "throughput",
    bottom + 20,
    { fixed, plot, texts: timeLabels },
    "images per second over time",
    duration,
  );
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
    const x0 = x(s.start / 1000, duration), x1 = x(s.end / 1000, duration);
    const width = Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 1 : 0));
    return `<rect class="bar ${kind}" x="${r1(x0)}" y="${y}" width="${
      r1(width)
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
      const bh = r1((h * q) / 4);
      const what = spans.length <= 3 && spans.length ? ` · ${someNames(spans)}` : "";
      out += `<rect class="bin q${q}" x="${r1(CHART.label + b * unit)}" y="${
        r1(y + h - bh)
      }" width="${r1((e - b) * unit)}" height="${bh}"><title>${
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
      out += `<rect class="mark ${kind}" x="${r1(x0)}" y="${y}" width="${
        r1(Math.max(3, x1 - x0))
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
      const s0 = x(s.start / 1000, duration), s1 = x(s.end / 1000, duration);
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

/** Averages consecutive samples so that at most `max` columns remain (server CPU is summed). */
function downsample(cpu: readonly CpuSample[], max: number): CpuSample[] {
  if (cpu.length <= max) return [...cpu];
  const group = Math.ceil(cpu.length / max);
  const out: CpuSample[] = [];
  for (let i = 0; i < cpu.length; i += group) {
    const chunk = cpu.slice(i, i + group);
    const cores = chunk[0].cores.map((_, c) =>
      chunk.reduce((sum, s) => sum + (s.cores[c] ?? 0), 0) / chunk.length
    );
    const sample: CpuSample = { t: chunk[chunk.length - 1].t, cores };
    if (chunk.some((s) => s.server !== undefined)) {
      sample.server = chunk.reduce((sum, s) => sum + (s.server ?? 0), 0);
    }
    out.push(sample);
  }
  return out;
}

/** The most CPU samples drawn as separate points; longer runs are averaged down to this. */
export const MAX_CPU_POINTS = 600;

/** A worker's cumulative CPU seconds at `t`, interpolated between its reported points. */
function cpuAt(points: readonly [number, number][], t: number): number {
  if (t <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [t1, c1] = points[i];
    if (t <= t1) {
      const [t0, c0] = points[i - 1];
      return t1 > t0 ? c0 + ((c1 - c0) * (t - t0)) / (t1 - t0) : c1;
    }
  }
  return points[points.length - 1][1];
}

/** zpix's own CPU time, beside the machine's. */
export interface CpuSummary {
  /** Cores of the machine (0 without samples). */
  cores: number;
  /** Mean busy share of the machine over the samples, all programs (0..1). */
  machine: number;
  /** CPU seconds of the server process over the samples, or null if not recorded. */
  server: number | null;
  /** Each worker's process CPU seconds (as of its last result), where it reported it. */
  workers: { id: string; local: boolean; seconds: number }[];
}

/** zpix's own CPU time: the server's and each worker's, beside the machine's mean use. */
export function cpuSummary(report: Report): CpuSummary {
  const cores = Math.max(0, ...report.cpu.map((s) => s.cores.length));
  const all = report.cpu.map((s) =>
    s.cores.reduce((a, b) => a + b, 0) / Math.max(1, s.cores.length)
  );
  return {
    cores,
    machine: all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0,
    server: report.cpu.some((s) => s.server !== undefined)
      ? report.cpu.reduce((sum, s) => sum + (s.server ?? 0), 0)
      : null,
    workers: report.workers.filter((w) => w.cpuTime?.length).sort((a, b) =>
      a.id.localeCompare(b.id, "en", { numeric: true })
    ).map((w) => ({
      id: w.id,
      local: w.host === "local",
      seconds: w.cpuTime![w.cpuTime!.length - 1][1],
    })),
  };
}

/**
 * zpix's share of the machine in each sample's interval: the server's
 * process CPU plus that of the workers on this machine (their reported
 * cumulative CPU, interpolated to the sample times; a worker's CPU before
 * its first result is not placed in time, only in its total), over the
 * interval's CPU capacity. Null when nothing of zpix's own was recorded.
 */
function zpixShare(report: Report, samples: readonly CpuSample[], cores: number): number[] | null {
  const locals = report.workers.filter((w) => w.host === "local" && w.cpuTime?.length);
  if (!samples.some((s) => s.server !== undefined) && !locals.length) return null;
  return samples.map((s, k) => {
    const t0 = k ? samples[k - 1].t : 0;
    const span = s.t - t0;
    if (span <= 0 || cores === 0) return 0;
    const workers = locals.reduce(
      (sum, w) => sum + cpuAt(w.cpuTime!, s.t) - cpuAt(w.cpuTime!, t0),
      0,
    );
    return ((s.server ?? 0) + workers) / (span * cores);
  });
}

/**
 * CPU use over the run, one small step chart per row (0-100 %), one step
 * per sample (the busy share over the interval it closes): the whole
 * machine's (every program on it, from the kernel's counters), zpix's own
 * (server and local workers, from their process CPU time) on the same
 * scale, then each core's (the machine's again).
 */
export function cpuChart(report: Report, duration = runDuration(report)): string {
  const samples = downsample(report.cpu, MAX_CPU_POINTS);
  const cores = Math.max(0, ...samples.map((s) => s.cores.length));
  const rowH = 30, top = 4;
  const rows: { label: string; note: string; cls: string; values: number[] }[] = [];
  if (cores > 0) {
    rows.push({
      label: "machine",
      note: "all programs",
      cls: "all",
      values: samples.map((s) => s.cores.reduce((a, b) => a + b, 0) / Math.max(1, s.cores.length)),
    });
    const zpix = zpixShare(report, samples, cores);
    if (zpix) rows.push({ label: "zpix", note: "its processes", cls: "zpix", values: zpix });
    for (let c = 0; c < cores; c++) {
      rows.push({
        label: `cpu${c}`,
        note: "",
        cls: "",
        values: samples.map((s) => s.cores[c] ?? 0),
      });
    }
  }
  let fixed = "", plot = "";
  rows.forEach((row, i) => {
    const y0 = top + i * rowH, base = y0 + rowH - 3, h = rowH - 6;
    const mean = row.values.length
      ? Math.round((100 * row.values.reduce((a, b) => a + b, 0)) / row.values.length)
      : 0;
    // A sample is the mean over the interval since the previous one: draw it as a step.
    const pts = samples.map((s, k) => {
      const y = r1(base - Math.min(1, row.values[k]) * h);
      return `${r1(x(k ? samples[k - 1].t : 0, duration))},${y} ${r1(x(s.t, duration))},${y}`;
    }).join(" ");
    const x0 = CHART.label;
    const x1 = samples.length ? r1(x(samples[samples.length - 1].t, duration)) : CHART.label;
    plot +=
      `<g class="cpu-row${row.cls ? ` ${row.cls}` : ""}" data-core="${
        escapeHtml(row.label)
      }" data-mean="${mean}">` +
      `<rect class="track" x="${CHART.label}" y="${y0 + 3}" width="${PLOT}" height="${h}"/>` +
      `<polygon class="cpu-area" points="${x0},${base} ${pts} ${x1},${base}"/>` +
      `<polyline class="cpu-line" data-points="${samples.length}" points="${pts}"/></g>`;
    fixed += `<text class="row-label" x="4" y="${y0 + 19}"><tspan class="worker-id">${
      escapeHtml(row.label)
    }</tspan><tspan class="muted" dx="6">${
      row.note ? `${escapeHtml(row.note)} · ` : "mean "
    }${mean}%</tspan></text>`;
  });
  const bottom = top + rows.length * rowH;
  if (!rows.length) {
    fixed += `<text class="empty" x="${
      CHART.label + 8
    }" y="30">no CPU samples (needs /proc/stat)</text>`;
  }
  const [grid, texts] = timeGrid(duration, top, Math.max(bottom, 40));
  return svg(
    "cpu",
    Math.max(bottom, 40) + 20,
    { fixed, plot: grid + plot, texts },
    "CPU use over time: the machine's and zpix's own",
    duration,
  );
}

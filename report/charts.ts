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

import type { Report } from "./report.ts";
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

/** Width of the plot area, in user units. */
export const PLOT = CHART.width - CHART.label - CHART.right;

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

/** The x of time `t` (s) on a plot of `duration` s, in user units. */
export const xAt = (t: number, duration: number): number => CHART.label + (t / duration) * PLOT;
/** `v` rounded to one decimal (SVG coordinates). */
export const round1 = (v: number): number => Math.round(v * 10) / 10;

/** A text placed in plot coordinates: the page's layout script moves it with the plot. */
export function plotText(
  px: number,
  y: number,
  cls: string,
  content: string,
  anchor = "start",
): string {
  return `<text class="${cls} px" x="${px}" data-x="${px}" y="${y}" text-anchor="${anchor}">${content}</text>`;
}

/** The grid lines and the tick labels of the shared time axis, for a plot `top`..`bottom`. */
export function timeGrid(duration: number, top: number, bottom: number): [string, string] {
  const ticks = niceTicks(duration);
  const lines = ticks.map((t) => {
    const px = round1(xAt(t, duration));
    return `<line class="grid" x1="${px}" x2="${px}" y1="${top}" y2="${bottom}"/>`;
  }).join("");
  const labels = ticks.map((t) =>
    plotText(round1(xAt(t, duration)), bottom + 14, "tick time-tick", formatSeconds(t), "middle")
  ).join("");
  return [lines, labels];
}

/**
 * One chart: `fixed` is drawn as is (label column, legends at fixed places),
 * `plot` inside the group the layout script stretches, `texts` are
 * {@link plotText}s.
 */
export function svg(
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
export const textWidth = (text: string, px = 11): number => text.length * px * 0.6;

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
  const y = (v: number) => round1(bottom - (v / yMax) * plotH);
  const [grid, timeLabels] = timeGrid(duration, top, bottom);
  let plot = grid;
  plot += yTicks.map((v) =>
    `<line class="grid" x1="${CHART.label}" x2="${CHART.label + PLOT}" y1="${y(v)}" y2="${y(v)}"/>`
  ).join("");
  let fixed = yTicks.map((v) =>
    `<text class="tick y-tick" x="${CHART.label - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`
  ).join("");
  // Along the axis: rotated, its baseline just left of the widest tick label.
  const titleX = round1(CHART.label - 6 - Math.max(...yTicks.map((v) => textWidth(String(v)))) - 8);
  const titleY = (top + bottom) / 2;
  fixed +=
    `<text class="axis-title" x="${titleX}" y="${titleY}" text-anchor="middle" transform="rotate(-90 ${titleX} ${titleY})">images / second</text>`;
  if (series.length) {
    const pts = series.map((p) => `${round1(xAt(p.t, duration))},${y(p.rate)}`).join(" ");
    const first = round1(xAt(series[0].t, duration));
    const last = round1(xAt(series[series.length - 1].t, duration));
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

/**
 * The report page's CPU chart: the machine's use (every program's) and
 * zpix's own processes' CPU time, on the time axis of `charts.ts`.
 *
 * @module
 */

import type { Report } from "./report.ts";
import type { CpuSample } from "../core/results.ts";
import { escapeHtml } from "./format.ts";
import { CHART, PLOT, round1, runDuration, svg, timeGrid, xAt } from "./charts.ts";

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
      const y = round1(base - Math.min(1, row.values[k]) * h);
      return `${round1(xAt(k ? samples[k - 1].t : 0, duration))},${y} ${
        round1(xAt(s.t, duration))
      },${y}`;
    }).join(" ");
    const x0 = CHART.label;
    const x1 = samples.length ? round1(xAt(samples[samples.length - 1].t, duration)) : CHART.label;
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

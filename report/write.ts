/**
 * Writing the report files: JSON data, or the HTML page (its renderer is
 * loaded only when a `.html` report is asked for).
 *
 * @module
 */

import { redactReport, type Report } from "./report.ts";

/** Writes the report to every `--report` file (JSON, or the HTML page); never the token. */
export async function writeReports(
  report: Report,
  paths: readonly string[],
): Promise<void> {
  for (const path of paths) {
    if (/\.html?$/i.test(path)) {
      const { renderReportHtml } = await import("./html.ts");
      await Deno.writeTextFile(path, renderReportHtml(report));
    } else {
      await Deno.writeTextFile(path, JSON.stringify(redactReport(report), null, 2) + "\n");
    }
  }
}

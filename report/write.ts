/**
 * Writing the report files: JSON data, or the HTML page (its renderer is
 * loaded only when a `.html` report is asked for).
 *
 * @module
 */

import { redactReport, type Report } from "./report.ts";
import { describeWriteError, writeAtomic } from "../core/atomic.ts";
import { RunError } from "../core/errors.ts";

/** Writes the report to every `--report` file (JSON, or the HTML page); never the token. */
export async function writeReports(
  report: Report,
  paths: readonly string[],
): Promise<void> {
  for (const path of paths) {
    let text: string;
    if (/\.html?$/i.test(path)) {
      const { renderReportHtml } = await import("./html.ts");
      text = renderReportHtml(report);
    } else {
      text = JSON.stringify(redactReport(report), null, 2) + "\n";
    }
    // Atomically, as outputs are: a full disk leaves the previous file (or none), never half a one.
    try {
      writeAtomic(path, new TextEncoder().encode(text));
    } catch (error) {
      throw new RunError(
        describeWriteError(error, path).replace(/^cannot write /, "cannot write --report "),
      );
    }
  }
}

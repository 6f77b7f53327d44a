/**
 * How zpix fails: the two error classes every room may throw, each carrying
 * its process exit code, and the table of exit codes the README documents.
 *
 * @module
 */

/** Exit codes, as the README documents them. */
export const EXIT = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  runFailed: 3,
  sigint: 130,
  sigterm: 143,
} as const;

/** A bad command line: printed as one line with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  /** The process exit code this error ends a run with. */
  readonly exitCode: number = EXIT.usage;
}

/** A run-stopping problem that is not a usage error (exit code 3): one clear line. */
export class RunError extends Error {
  override name = "RunError";
  /** The process exit code this error ends a run with. */
  readonly exitCode: number = EXIT.runFailed;
}

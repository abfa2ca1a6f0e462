/**
 * What the exit status of `selfbaas` means (docs/cli.md lists them). Scripts branch on these,
 * so a number never changes meaning.
 */
export const EXIT = {
  OK: 0,
  /** Something unexpected (a bug, a file that cannot be written). */
  FAILURE: 1,
  /** Wrong arguments or options. */
  USAGE: 2,
  /** The project or the target is missing or invalid (no selfbaas.json, no url/key, bad manifest). */
  CONFIG: 3,
  /** A function does not compile (the messages name file, line and column). */
  COMPILE: 4,
  /** The server refused a request (4xx/5xx with its error code). */
  API: 5,
  /** The server could not be reached. */
  NETWORK: 6,
  /** A function ran and failed (failed, timed_out or dead run). */
  RUN_FAILED: 7,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one clear message and a meaningful exit status (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Lines printed below the message (compile errors, validation details). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

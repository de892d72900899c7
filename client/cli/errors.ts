// Exit codes and output shared by every command; light, so that API mode loads no database or Temporal code.

/** Exit codes the CLI promises (documented in --help and the README). */
export const ExitCode = {
  OK: 0,
  FAILED: 1, // the work ran and failed, or an unexpected error
  USAGE: 2, // bad arguments or a rejected request
  NOT_FOUND: 3,
  CANCELLED: 4,
  UNAVAILABLE: 5, // a server (the API, Temporal, PostgreSQL, ...) did not answer, or asked to wait (429)
  AUTH: 77, // no token, or the API refused it (401, 403): EX_NOPERM
  CONFIG: 78, // EX_CONFIG
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

import { Option, type Command } from 'commander';
import { ApiClient } from './api-client';
import { CliError, ExitCode } from './errors';

/** The API's address when neither --url nor GITLAB_TEMPORAL_URL says otherwise (API_HOST:API_PORT's default). */
export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

/** Options every command of the export and bulk-update families takes, whichever way it reaches the work. */
export interface TargetOptions {
  url?: string;
  token?: string;
  direct?: boolean;
  user?: string;
  output?: string;
  json?: boolean;
}

/** Either the REST API with a token (the default), or the operator's direct access acting as --user. */
export type Target = { kind: 'api'; api: ApiClient } | { kind: 'direct'; user: string };

/** Adds --url, --token, --direct, --user, -o/--output and --json to a command. */
export function targetOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'API base URL').env('GITLAB_TEMPORAL_URL'))
    .addOption(
      new Option('--token <token>', 'personal access token (prefer the variable: a flag shows in ps)').env(
        'GITLAB_TEMPORAL_TOKEN',
      ),
    )
    .option('--direct', 'administrators: act directly on PostgreSQL and Temporal as --user, without the API')
    .option('--user <username>', 'with --direct (implied): the user to act as')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--json', 'same as -o json');
}

export const wantsJson = (opts: TargetOptions): boolean => Boolean(opts.json) || opts.output === 'json';

/**
 * Reads the options into a target. --user (or --direct) selects direct mode, where a token (often set in the
 * environment for everyday use) plays no part. In API mode no database or Temporal setting is read.
 */
export function resolveTarget(opts: TargetOptions): Target {
  if (opts.direct || opts.user !== undefined) {
    if (!opts.user) throw new CliError('--direct needs --user <username>: the user to act as', ExitCode.USAGE);
    return { kind: 'direct', user: opts.user };
  }
  const token = opts.token?.trim();
  if (!token)
    throw new CliError(
      'no token: set GITLAB_TEMPORAL_TOKEN (or pass --token) to a personal access token with the api scope; ' +
        'administrators with database access can use --direct --user <username>',
      ExitCode.AUTH,
    );
  const url = (opts.url ?? DEFAULT_API_URL).trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--url ${url} is not a URL such as ${DEFAULT_API_URL}`, ExitCode.CONFIG);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`--url ${url} must start with http:// or https://`, ExitCode.CONFIG);
  return { kind: 'api', api: new ApiClient({ url, token }) };
}

/** A positive whole number from the command line (ids, limits), or exit code 2. */
export function positiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new CliError(`${what} must be a whole number of at least 1, not ${value}`, ExitCode.USAGE);
  return n;
}

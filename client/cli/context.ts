import { Client, Connection } from '@temporalio/client';
import { createSql, type Sql } from '../../db/sql';
import { userByUsername, type AuthenticatedUser } from '../../db/users';
import { loadConfigOrExit, type Config } from '../../contracts/config';
import { loadEnvFile } from '../../contracts/env-file';
import { temporalConnectionOptions } from '../../contracts/temporal';
import { CliError, ExitCode } from './errors';

export { CliError, ExitCode, printJson } from './errors';

// The direct mode's connections (PostgreSQL and Temporal), loaded only by commands that act directly.

export interface CliContext {
  config: Config;
  sql: Sql;
  temporal: Client;
  close(): Promise<void>;
}

export function cliConfig(): Config {
  loadEnvFile();
  return loadConfigOrExit();
}

/** Connections for one command; always closed by withContext. */
export async function withContext<T>(run: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const sql = createSql(config.DATABASE_URL, { max: 2, applicationName: 'gitlab-temporal-cli' });
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: '5s' });
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw new CliError(
      `cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${(err as Error).message}`,
      ExitCode.UNAVAILABLE,
    );
  }
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const ctx: CliContext = {
    config,
    sql,
    temporal,
    async close() {
      await connection.close();
      await sql.end({ timeout: 5 });
    },
  };
  try {
    return await run(ctx);
  } finally {
    await ctx.close();
  }
}

/** The active user a command acts as (--user); exit code 3 when there is none. */
export async function actingUser(ctx: CliContext, username: string): Promise<AuthenticatedUser> {
  const user = await userByUsername(ctx.sql, username);
  if (!user) throw new CliError(`user ${username} does not exist or is not active`, ExitCode.NOT_FOUND);
  return user;
}

import postgres from 'postgres';

/** The column types createSql parses itself: bigint (int8) comes back as a JS number. */
type SqlTypes = { bigint: number };

/** A pool or a transaction (`sql.begin(tx => …)`): what every db function takes, so callers choose the boundaries. */
export type Db = postgres.ISql<SqlTypes>;

/** The pool itself: only what needs pool-only methods (begin, reserve, listen, end) asks for it. */
export type Sql = postgres.Sql<SqlTypes>;

export interface SqlOptions {
  max?: number;
  applicationName?: string;
}

/** One pool per process, created by the composition root and passed down; never at import time. */
export function createSql(url: string, options: SqlOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    idle_timeout: 30,
    max_lifetime: 60 * 30,
    connect_timeout: 10,
    onnotice: () => undefined,
    connection: { application_name: options.applicationName ?? 'gitlab-temporal' },
    // bigint ids come back as JS numbers: GitLab ids stay far below 2^53.
    types: {
      bigint: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
    transform: { undefined: null },
  });
}

/** Database name of a PostgreSQL URL, for messages and the test setup. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** The same URL pointing at another database on the same server. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

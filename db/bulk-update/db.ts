import type postgres from 'postgres';

/** A pool or a transaction: every query here runs in either, so callers decide the transaction boundaries. */
export type Db = postgres.ISql<Record<string, never>>;

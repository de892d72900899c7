// Which failures of a project update are the infrastructure's (retry the batch: the project has no outcome yet)
// and which are the project's (record an unexpected_error: retrying would fail the same way and hold up the
// operation). Retrying is always safe because an outcome is written in the same transaction as the change.

// SQLSTATE classes and codes that say nothing about the project: lost connections, shutdowns, overload,
// serialisation conflicts and deadlocks.
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57', '58'];
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03']);

// postgres.js's own connection-level error codes.
const TRANSIENT_CLIENT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

export function isTransientError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (TRANSIENT_CLIENT_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
  return /^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2));
}

/** A one-line message for the report: no stack, bounded length. */
export function errorMessageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split('\n')[0]?.trim() || 'Unknown error';
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

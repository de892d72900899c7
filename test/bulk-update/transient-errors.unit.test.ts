import { errorMessageOf, isTransientError } from '../../activities/bulk-update/transient-errors';

// A transient error retries the batch (the project gets no outcome yet); any other is the project's own
// unexpected_error, recorded so the operation can finish.

const withCode = (code: unknown, message = 'boom') => Object.assign(new Error(message), { code });

describe('isTransientError', () => {
  it.each([
    ['08000', 'connection exception'],
    ['08006', 'connection failure'],
    ['08P01', 'protocol violation'],
    ['53100', 'disk full'],
    ['53300', 'too many connections'],
    ['57014', 'query canceled (statement timeout)'],
    ['57P01', 'admin shutdown'],
    ['57P03', 'cannot connect now'],
    ['58030', 'I/O error'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
    ['55P03', 'lock not available'],
  ])('retries SQLSTATE %s (%s)', (code) => {
    expect(isTransientError(withCode(code))).toBe(true);
  });

  it.each([
    'CONNECTION_CLOSED',
    'CONNECTION_ENDED',
    'CONNECTION_DESTROYED',
    'CONNECT_TIMEOUT',
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
  ])("retries the client's connection error %s", (code) => {
    expect(isTransientError(withCode(code))).toBe(true);
  });

  it.each([
    ['23505', 'unique violation'],
    ['23503', 'foreign key violation'],
    ['22P02', 'invalid text representation'],
    ['42P01', 'undefined table'],
    ['42703', 'undefined column'],
    ['40002', 'integrity constraint violation (class 40, not a serialization failure)'],
    ['55000', 'object not in prerequisite state (class 55, not a lock timeout)'],
    ['P0001', 'raise exception'],
    ['XX000', 'internal error'],
  ])("records SQLSTATE %s (%s) as the project's error", (code) => {
    expect(isTransientError(withCode(code))).toBe(false);
  });

  it('records errors without a usable code as the project’s own', () => {
    expect(isTransientError(new Error('no code'))).toBe(false);
    expect(isTransientError(withCode(8006))).toBe(false); // numbers are not SQLSTATEs
    expect(isTransientError(withCode('08p01'))).toBe(false); // SQLSTATEs are upper case
    expect(isTransientError(withCode('0800'))).toBe(false);
    expect(isTransientError(withCode('080060'))).toBe(false);
    expect(isTransientError(withCode('ENOENT'))).toBe(false);
    expect(isTransientError(withCode('MAX_PARAMETERS_EXCEEDED'))).toBe(false);
  });

  it('only classifies Error objects', () => {
    expect(isTransientError({ code: 'ECONNRESET', message: 'plain object' })).toBe(false);
    expect(isTransientError('ECONNRESET')).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
    expect(isTransientError(null)).toBe(false);
  });

  it('classifies Error subclasses the same way', () => {
    class PostgresError extends Error {
      constructor(readonly code: string) {
        super('postgres');
      }
    }
    expect(isTransientError(new PostgresError('40P01'))).toBe(true);
    expect(isTransientError(new PostgresError('23505'))).toBe(false);
    expect(
      isTransientError(Object.assign(new AggregateError([], 'all attempts failed'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
  });
});

describe('errorMessageOf', () => {
  it('keeps the first line of an error message, trimmed, without the stack', () => {
    const err = new Error('  duplicate key value violates unique constraint  \nDETAIL: Key (id)=(1) already exists.');
    expect(errorMessageOf(err)).toBe('duplicate key value violates unique constraint');
    expect(errorMessageOf(err)).not.toContain('at ');
  });

  it('turns anything thrown into a string', () => {
    expect(errorMessageOf('plain string')).toBe('plain string');
    expect(errorMessageOf(42)).toBe('42');
    expect(errorMessageOf(undefined)).toBe('undefined');
    expect(errorMessageOf({ toString: () => 'custom' })).toBe('custom');
  });

  it('says "Unknown error" rather than nothing', () => {
    expect(errorMessageOf(new Error(''))).toBe('Unknown error');
    expect(errorMessageOf(new Error('   '))).toBe('Unknown error');
    expect(errorMessageOf('')).toBe('Unknown error');
  });

  it('bounds the message at 500 characters, marking the cut', () => {
    expect(errorMessageOf(new Error('a'.repeat(500)))).toBe('a'.repeat(500));
    const long = errorMessageOf(new Error('b'.repeat(501)));
    expect(long).toHaveLength(500);
    expect(long).toBe(`${'b'.repeat(497)}...`);
  });
});

import { createLogger, redact } from '../../contracts/logger';

const capture = (options: Parameters<typeof createLogger>[0] = {}) => {
  const lines: string[] = [];
  const log = createLogger({ ...options, write: (line) => lines.push(line) });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records };
};

describe('createLogger', () => {
  it('writes one JSON object per line: time, level, message, component and metadata', () => {
    const { log, lines, records } = capture({ component: 'worker' });
    log.info('started', { taskQueue: 'offline-export', slots: 4 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [record] = records();
    expect(record).toEqual({
      time: expect.any(String),
      level: 'info',
      msg: 'started',
      component: 'worker',
      taskQueue: 'offline-export',
      slots: 4,
    });
    expect(new Date(record!.time as string).toISOString()).toBe(record!.time);
  });

  it('drops what is below its level (info by default)', () => {
    const byDefault = capture();
    byDefault.log.trace('t');
    byDefault.log.debug('d');
    byDefault.log.info('i');
    byDefault.log.warn('w');
    byDefault.log.error('e');
    expect(byDefault.records().map((r) => r.level)).toEqual(['info', 'warn', 'error']);

    const warn = capture({ level: 'warn' });
    warn.log.info('i');
    warn.log.warn('w');
    warn.log.log('ERROR', 'e'); // Temporal's runtime logs with upper-case levels
    expect(warn.records().map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);

    const trace = capture({ level: 'trace' });
    trace.log.log('TRACE', 't');
    expect(trace.records().map((r) => r.level)).toEqual(['trace']);
  });

  it('child loggers carry the parent component and their own fields', () => {
    const { log, records } = capture({ component: 'bulk-update' });
    const child = log.child({ operationId: 'op-1' });
    child.warn('batch retried', { batch: 3 });
    child.child({ batch: 4 }).error('failed');
    child.debug('dropped at the parent level');
    expect(records()).toEqual([
      expect.objectContaining({ level: 'warn', component: 'bulk-update', operationId: 'op-1', batch: 3 }),
      expect.objectContaining({
        level: 'error',
        component: 'bulk-update',
        operationId: 'op-1',
        batch: 4,
        msg: 'failed',
      }),
    ]);
  });

  it('never writes secrets given in the metadata', () => {
    const { log, lines } = capture();
    log.error('upload failed', {
      s3: { accessKeyId: 'AKIA-SECRET-1', secretAccessKey: 'SECRET-2', region: 'us-east-1' },
      auth: { user: 'mailer', pass: 'SECRET-3' },
      headers: { Authorization: 'Bearer SECRET-4', 'PRIVATE-TOKEN': 'SECRET-5', cookie: 'SECRET-6' },
      url: 'postgres://app:SECRET-7@db.internal:5432/gitlab',
    });
    const out = lines.join('\n');
    expect(out).not.toMatch(/SECRET-\d/);
    expect(out).toContain('us-east-1');
    expect(out).toContain('mailer');
    expect(out).toContain('db.internal');
  });
});

describe('redact', () => {
  it.each([
    'password',
    'PASSWORD',
    'passwd',
    'pass',
    'pwd',
    'secret',
    'clientSecret',
    'token',
    'accessToken',
    'api_key',
    'apiKey',
    'api-key',
    'authorization',
    'credentials',
    'private_key',
    'privateKey',
    'encryptionKey',
    'ENCRYPTION_KEY',
    'accessKeyId',
    'aws_access_key_id',
    'aws_secret_access_key',
    'Set-Cookie',
  ])('masks the value of %s', (key) => {
    expect(redact({ [key]: 'value-1' })).toEqual({ [key]: '*****' });
    expect(redact({ [key]: { nested: 'value-2' } })).toEqual({ [key]: '*****' });
  });

  it.each(['user', 'username', 'passenger', 'compass', 'region', 'bucket', 'keyboard', 'id'])('keeps %s', (key) => {
    expect(redact({ [key]: 'value' })).toEqual({ [key]: 'value' });
  });

  it('keeps a secret key whose value is null or undefined, so "not set" stays visible', () => {
    expect(redact({ password: null, token: undefined })).toEqual({ password: null, token: undefined });
  });

  it('masks user:password in URLs anywhere in a string', () => {
    expect(redact({ msg: 'connect postgres://app:pw@db:5432/x failed; redis://:rpw@cache:6379 too' })).toEqual({
      msg: 'connect postgres://*****:*****@db:5432/x failed; redis://*****:*****@cache:6379 too',
    });
    expect(redact({ url: 'https://example.test/a@b' })).toEqual({ url: 'https://example.test/a@b' });
  });

  it('goes through arrays and nested objects, and turns errors, bigints and deep nesting into plain values', () => {
    expect(redact({ list: [{ token: 't' }, 'postgres://u:p@h/d', 3] })).toEqual({
      list: [{ token: '*****' }, 'postgres://*****:*****@h/d', 3],
    });
    const error = new TypeError('bad thing');
    expect(redact({ err: error })).toEqual({ err: { name: 'TypeError', message: 'bad thing' } });
    expect(redact({ n: 12345678901234567890n })).toEqual({ n: '12345678901234567890' });
    expect(redact({ a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } })).toEqual({
      a: { b: { c: { d: { e: { f: { g: '[nested]' } } } } } },
    });
  });
});

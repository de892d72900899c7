import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { chooseLogFormat, createLogger, pinoLoggerOf, prepareForLog, redact } from '../../contracts/logger';

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

describe('errors in log records', () => {
  type ErrorRecord = {
    name: string;
    message: string;
    stack?: string;
    cause?: ErrorRecord;
    errors?: ErrorRecord[];
    [k: string]: unknown;
  };

  it('keep their stack and the whole cause chain', () => {
    const { log, records } = capture();
    const root = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const middle = new Error('could not read the chunk', { cause: root });
    log.error('chunk failed', { error: new TypeError('export stopped', { cause: middle }) });
    const error = records()[0]!.error as ErrorRecord;
    expect(error).toMatchObject({ name: 'TypeError', message: 'export stopped' });
    expect(error.stack).toMatch(/^TypeError: export stopped\n\s+at /);
    expect(error.stack).toContain('logger.unit.test.ts');
    expect(error.cause).toMatchObject({ name: 'Error', message: 'could not read the chunk' });
    expect(error.cause!.stack).toMatch(/^Error: could not read the chunk\n\s+at /);
    expect(error.cause!.cause).toMatchObject({ message: 'connect ECONNREFUSED 127.0.0.1:5432' });
    expect(error.cause!.cause!.stack).toContain('logger.unit.test.ts');
  });

  it("keep an AggregateError's errors, a Temporal failure's fields and causes, and a database error's code", () => {
    const { log, records } = capture();
    const application = ApplicationFailure.create({
      type: 'ExportNotFound',
      message: 'offline export 42 does not exist',
      nonRetryable: true,
      cause: Object.assign(new Error('no rows'), { code: '02000', detail: 'export 42' }),
    });
    const activity = new ActivityFailure(
      'Activity task failed',
      'exportPortableChunk',
      '7',
      RetryState.NON_RETRYABLE_FAILURE,
      'worker-1',
      application,
    );
    log.error('chunk gave up', {
      error: new AggregateError([activity, new RangeError('too far')], 'two lanes failed'),
    });
    const error = records()[0]!.error as ErrorRecord;
    expect(error).toMatchObject({ name: 'AggregateError', message: 'two lanes failed' });
    expect(error.errors).toHaveLength(2);
    const [first, second] = error.errors!;
    expect(first).toMatchObject({
      name: 'ActivityFailure',
      message: 'Activity task failed',
      activityType: 'exportPortableChunk',
      activityId: '7',
      identity: 'worker-1',
      cause: {
        name: 'ApplicationFailure',
        type: 'ExportNotFound',
        message: 'offline export 42 does not exist',
        nonRetryable: true,
        cause: { name: 'Error', message: 'no rows', code: '02000', detail: 'export 42' },
      },
    });
    expect(first!.cause!.stack).toContain('ApplicationFailure');
    expect(second).toMatchObject({ name: 'RangeError', message: 'too far', stack: expect.stringContaining('at ') });
  });

  it('mask secrets inside errors: their fields, URLs in messages and stacks, their causes', () => {
    const { log, lines } = capture();
    const cause = Object.assign(new Error('auth failed for postgres://app:SECRET-1@db:5432/x'), {
      password: 'SECRET-2',
      config: { secretAccessKey: 'SECRET-3', region: 'eu-west-1' },
    });
    log.error('failed', { error: new Error('outer', { cause }), err: cause });
    const out = lines.join('\n');
    expect(out).not.toMatch(/SECRET-\d/);
    expect(out).toContain('postgres://*****:*****@db:5432/x');
    expect(out).toContain('eu-west-1');
  });

  it('stop at cycles and at very long cause chains', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const prepared = prepareForLog({ error: a }) as { error: ErrorRecord };
    expect(prepared.error.cause!.message).toBe('b');
    expect(prepared.error.cause!.cause).toBe('[circular]');

    let chain = new Error('e0');
    for (let i = 1; i <= 30; i++) chain = new Error(`e${i}`, { cause: chain });
    const text = JSON.stringify(prepareForLog({ error: chain }));
    expect(text).toContain('[more causes]');
    expect(text).toContain('"e20"');
    const objects = {
      list: [new Date('2026-01-02T03:04:05.000Z'), Buffer.from('abc'), new URL('https://u:p@h.test/x')],
    };
    expect(prepareForLog(objects)).toEqual({
      list: ['2026-01-02T03:04:05.000Z', '[Buffer of 3 bytes]', 'https://*****:*****@h.test/x'],
    });
  });

  it('go through the serializers given for top-level fields, then are masked', () => {
    const lines: string[] = [];
    const log = createLogger({
      write: (l) => lines.push(l),
      serializers: { req: (r: { method: string; url: string; socket: unknown }) => ({ method: r.method, url: r.url }) },
    });
    log.info('request', { req: { method: 'GET', url: '/x?private_token=abc', socket: { huge: true } }, other: 1 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ req: { method: 'GET', url: '/x?private_token=abc' }, other: 1 });
    expect(lines[0]).not.toContain('huge');
  });

  it('that reach pino directly (Fastify) are prepared the same way', () => {
    const { log, records } = capture({ component: 'api' });
    const instance = pinoLoggerOf(log)!;
    instance.error({ err: new Error('boom', { cause: new Error('inner') }), headers: { authorization: 'x' } }, 'req');
    expect(records()[0]).toMatchObject({
      component: 'api',
      msg: 'req',
      err: { message: 'boom', stack: expect.stringContaining('Error: boom'), cause: { message: 'inner' } },
      headers: { authorization: '*****' },
    });
  });
});

describe('log formats', () => {
  it('pretty writes readable lines: time, level, message, then the fields and the stack, no JSON braces per line', () => {
    const { log, lines } = capture({ format: 'pretty', component: 'worker' });
    log.warn('relation export failed; retrying', {
      exportId: 42,
      token: 'SECRET-9',
      error: new Error('timeout', { cause: new Error('socket hang up') }),
    });
    expect(lines).toHaveLength(1);
    const text = lines[0]!;
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: relation export failed; retrying\n/);
    expect(text).toContain('component: "worker"');
    expect(text).toContain('exportId: 42');
    expect(text).toMatch(/Error: timeout\n\s+at /);
    expect(text).toContain('socket hang up');
    expect(text).not.toContain('SECRET-9');
    expect(text).not.toContain('\u001b['); // no colours when not writing to a terminal
    expect(() => void JSON.parse(text)).toThrow();
  });

  it('json is the default: one parseable object per line', () => {
    const { log, lines } = capture();
    log.info('a', { error: new Error('x') });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'a', error: { message: 'x' } });
  });

  it('auto chooses pretty only for a terminal outside production', () => {
    expect(chooseLogFormat('auto', { isTTY: true }, undefined)).toBe('pretty');
    expect(chooseLogFormat('auto', { isTTY: true }, 'development')).toBe('pretty');
    expect(chooseLogFormat('auto', { isTTY: true }, 'production')).toBe('json');
    expect(chooseLogFormat('auto', { isTTY: false }, undefined)).toBe('json');
    expect(chooseLogFormat('auto', {}, undefined)).toBe('json');
    expect(chooseLogFormat(undefined, { isTTY: true }, undefined)).toBe('pretty');
    expect(chooseLogFormat('json', { isTTY: true }, undefined)).toBe('json');
    expect(chooseLogFormat('pretty', { isTTY: false }, 'production')).toBe('pretty');
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

import { randomUUID } from 'node:crypto';
import { startTestApi, type TestApi } from '../helpers/api';
import {
  createUser,
  nested,
  nestedObject,
  ODD_STRINGS,
  operationKeys,
  Pairs,
  RawJson,
  rootGroupIds,
  toJson,
  type Rng,
} from './support';
import { writtenRows, type Written } from '../helpers/database';
import { prng } from '../helpers/random';
import { namespaceIdByPath } from '../../db/seed/lookups';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';

// Thousands of generated malformed requests against every endpoint of the real API (real PostgreSQL, Redis,
// Temporal, MinIO). Every case is built from a valid request plus at least one change that makes it invalid, so
// each must be refused: never a 5xx, always JSON {"message": ...}, and afterwards not one row, Redis key or
// workflow more than before. The PRNG is seeded: a failing case prints its number and replays identically.

const SEED = 0x5ec0_2e57;
const FUZZ_USER = { id: 900_101, username: 'security-fuzzer' };
const EXPORT_CASES = 1200;
const BULK_CASES = 1200;
const GET_CASES = 900;

let api: TestApi;
let token: string;
let groupId: number;
let attributeId: number;
let before: Written;
const testStart = new Date().toISOString();
const taskQueues = {
  export: `test-fuzz-export-${randomUUID().slice(0, 8)}`,
  bulkUpdate: `test-fuzz-bulk-${randomUUID().slice(0, 8)}`,
};
const rateLimitKey = `api_rate_limit:POST/api/v4/offline_exports-user:${FUZZ_USER.id}`;

interface Sent {
  label: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string | null;
  headers?: Record<string, string>;
}

interface Answer {
  status: number;
  text: string;
  json: unknown;
}

async function send(req: Sent): Promise<Answer> {
  const headers: Record<string, string> = { 'PRIVATE-TOKEN': token, ...req.headers };
  if (req.contentType !== null && req.body !== undefined)
    headers['Content-Type'] = req.contentType ?? 'application/json';
  const res = await fetch(`${api.url}${req.path}`, { method: req.method, headers, body: req.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/**
 * Never a 5xx; a refusal is JSON {"message": string}, {"error": string} for a parameter refused by validation (a
 * 400 in Grape's format, as GitLab answers it), or {"message": {"error": string}} for GitLab's 429.
 */
function checkRefused(req: Sent, answer: Answer, allowOk: boolean): string | undefined {
  const { status, json } = answer;
  const body =
    typeof req.body === 'string'
      ? JSON.stringify(req.body.slice(-120)).replace(
          /[^\x20-\x7e]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        )
      : '';
  const where = `${req.label} [${req.contentType}] ${req.method} ${req.path.slice(0, 120)} ${body} -> ${status} ${answer.text.slice(0, 200)}`;
  if (status >= 500) return `5xx: ${where}`;
  if (status < 400) return allowOk ? undefined : `accepted: ${where}`;
  const fields = typeof json === 'object' && json !== null ? (json as { message?: unknown; error?: unknown }) : {};
  const text =
    status === 429
      ? (fields.message as { error?: unknown } | undefined)?.error
      : (fields.message ?? (status === 400 ? fields.error : undefined));
  if (typeof text !== 'string') return `not JSON {message} (or a 400's {error}): ${where}`;
  return undefined;
}

// --- Generators ---

/** Percent-encodes the UTF-8 bytes of any string, lone surrogates included (encodeURIComponent throws on them). */
const pct = (s: string): string =>
  [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

const oddString = (r: Rng): string => {
  const base = r.pick(ODD_STRINGS);
  switch (r.int(0, 5)) {
    case 0:
      return base.repeat(r.int(2, 50));
    case 1:
      return `${r.pick(ODD_STRINGS)}${base}${r.pick(ODD_STRINGS)}`;
    default:
      return base;
  }
};

/** A value of the wrong type (or a weird one of the right type). */
const wrongValue = (r: Rng): unknown =>
  r.pick<() => unknown>([
    () => null,
    () => true,
    () => 0,
    () => -1,
    () => 1.5,
    () => new RawJson('1e309'),
    () => new RawJson('-0'),
    () => 2 ** 53 + 2,
    () => new RawJson('123456789012345678901234567890'),
    () => oddString(r),
    () => [],
    () => {},
    () => [oddString(r)],
    () => [null, [], {}],
    () => nested(r.int(2, 200)),
    () => nestedObject(r.int(2, 200)),
    () => new Pairs([['__proto__', { polluted: true }]]),
    () => new Pairs([['constructor', { prototype: { polluted: true } }]]),
    () => 'x'.repeat(r.int(256, 20_000)),
  ])();

/** Unknown keys, odd keys and repeated keys that must not make an invalid request valid. */
function noise(r: Rng): [string, unknown][] {
  const out: [string, unknown][] = [];
  const n = r.chance(0.5) ? 0 : r.int(1, 4);
  for (let i = 0; i < n; i++)
    out.push([
      r.chance(0.3) ? r.pick(['source_hostname', 'id', 'user_id', 'status', 'admin']) : oddString(r),
      wrongValue(r),
    ]);
  return out;
}

function validExportPairs(): [string, unknown][] {
  return Object.entries(devBucketExportBody(api.deps.config, ['gitlab-org']));
}

const blockedEndpoint = (r: Rng) =>
  r.pick([
    'http://169.254.169.254/',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
    'http://metadata.google.internal/',
    'http://169.254.170.2/' + pct(oddString(r)),
    'http://[::ffff:169.254.169.254]/',
    'http://2852039166/',
    'http://0xa9.0xfe.0xa9.0xfe/',
  ]);

/** One change that is certain to make an export request invalid. */
function breakExport(r: Rng, pairs: [string, unknown][]): [string, unknown][] {
  const s3 = { ...(pairs[1]![1] as Record<string, unknown>) };
  const set = (key: string, value: unknown) => [...pairs.filter(([k]) => k !== key), [key, value] as [string, unknown]];
  const drop = (key: string) => pairs.filter(([k]) => k !== key);
  const breakers: (() => [string, unknown][])[] = [
    () => drop('entities'),
    () => set('entities', r.pick<unknown>([null, [], {}, 'gitlab-org', 1, true, [null], [1], [[]], ['gitlab-org']])),
    () =>
      set('entities', [
        { full_path: r.pick<unknown>(['', '   ', null, 1, [], {}, ['gitlab-org'], { full_path: 'gitlab-org' }]) },
      ]),
    // Trimmed and case-insensitive like GitLab's routes (' GITLAB-ORG\ufeff' is gitlab-org), so add a missing part.
    () => set('entities', [{ full_path: `${oddString(r)}/missing` }]),
    () => set('entities', [{ full_path: `gitlab-org${oddString(r)}x` }]),
    () => set('entities', [{ full_path: 'gitlab-org' }, { full_path: `${oddString(r)}-missing` }]),
    () => set('entities', [{ full_path: 'gitlab-org' }, { path: 'org-2' }]),
    () =>
      set('entities', [
        new Pairs([
          ['full_path', 'gitlab-org'],
          ['full_path', oddString(r) + '-missing'],
        ]),
      ]),
    () => set('entities', [new Pairs([['__proto__', { full_path: 'gitlab-org' }]])]),
    () => set('entities', nested(r.int(2, 500), '{"full_path":"gitlab-org"}')),
    () =>
      set(
        'entities',
        Array.from({ length: r.int(2, 300) }, (_, i) => ({ full_path: `missing-${i}-${oddString(r)}` })),
      ),
    () => drop('bucket'),
    () => set('bucket', wrongValue(r)),
    () => set('bucket', oddString(r)),
    () => set('bucket', `${api.deps.config.S3_BUCKET}${r.pick(['\u0000', '\u202e', '🚀', 'Ä', '_', '/x', ' '])}`),
    () => set('bucket', r.pick(['ab', 'a'.repeat(64), 'A-BUCKET', 'bucket..name'.replace('..', '/')])),
    () => drop('s3_compatible_configuration'),
    () => set('s3_compatible_configuration', wrongValue(r)),
    () => [
      ...pairs,
      ['aws_s3_configuration', { aws_access_key_id: 'a', aws_secret_access_key: 'b', region: 'us-east-1' }],
    ],
    () =>
      set('s3_compatible_configuration', {
        ...s3,
        [r.pick(['aws_access_key_id', 'aws_secret_access_key', 'region', 'endpoint'])]: wrongValue(r),
      }),
    () => set('s3_compatible_configuration', { ...s3, path_style: r.pick<unknown>(['yes', 1, 0, [], {}, 'TRUE']) }),
    () => set('s3_compatible_configuration', { ...s3, endpoint: oddString(r) }),
    () => set('s3_compatible_configuration', { ...s3, endpoint: blockedEndpoint(r) }),
    () =>
      set('s3_compatible_configuration', {
        ...s3,
        endpoint: r.pick([
          'ftp://127.0.0.1:9000',
          'file:///etc/passwd',
          'javascript:alert(1)',
          'gopher://127.0.0.1:6379/_FLUSHALL',
          'http://',
          'http://:9000',
          '//127.0.0.1:9000',
        ]),
      }),
    () =>
      set('s3_compatible_configuration', { ...s3, endpoint: `http://169.254.169.254/${'a'.repeat(r.int(240, 2000))}` }),
    () => set('s3_compatible_configuration', { ...s3, region: oddString(r) + '\u0000' }),
    () => set('s3_compatible_configuration', new Pairs([...Object.entries(s3), ['endpoint', blockedEndpoint(r)]])),
    () =>
      set(
        's3_compatible_configuration',
        new Pairs([...Object.entries(s3), ['__proto__', { endpoint: 'http://127.0.0.1:9000' }]]),
      ),
    () => [...pairs, ['constructor', { prototype: { isAdmin: true } }]],
    () => [['__proto__', { bucket: 'x' }], ...pairs],
  ];
  return r.pick(breakers)();
}

function exportCase(r: Rng, i: number): Sent {
  const label = `export#${i}`;
  const path = '/api/v4/offline_exports';
  // One in ten cases breaks the request below JSON: body type, content type, syntax, encoding.
  if (r.chance(0.1)) {
    const valid = toJson(new Pairs(validExportPairs()));
    return r.pick<() => Sent>([
      () => ({ label, method: 'POST', path }),
      () => ({ label, method: 'POST', path, body: '' }),
      () => ({ label, method: 'POST', path, body: valid.slice(0, r.int(1, valid.length - 1)) }),
      () => ({
        label,
        method: 'POST',
        path,
        body: valid,
        contentType: r.pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/x-json',
          'json',
        ]),
      }),
      () => ({
        label,
        method: 'POST',
        path,
        body: Buffer.concat([Buffer.from(valid.slice(0, -2)), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"}')]),
      }),
      () => ({ label, method: 'POST', path, body: toJson(wrongValue(r)) }),
      () => ({
        label,
        method: 'POST',
        path,
        body: r.pick([
          'null',
          'true',
          '1',
          '"x"',
          '[]',
          '[{}]',
          'NaN',
          'undefined',
          '{',
          '}',
          '{"a":1,}',
          "{'a':1}",
          '\u0000',
        ]),
      }),
    ])();
  }
  const pairs = [...noise(r), ...breakExport(r, validExportPairs()), ...(r.chance(0.2) ? noise(r) : [])];
  return { label, method: 'POST', path, body: toJson(new Pairs(pairs)) };
}

function validBulkPairs(): [string, unknown][] {
  return [
    ['group_ids', [groupId]],
    ['attribute_ids', [attributeId]],
    ['mode', 'ADD'],
  ];
}

function breakBulk(r: Rng, pairs: [string, unknown][]): [string, unknown][] {
  const set = (key: string, value: unknown) => [...pairs.filter(([k]) => k !== key), [key, value] as [string, unknown]];
  const drop = (key: string) => pairs.filter(([k]) => k !== key);
  const badIds = (): unknown =>
    r.pick<() => unknown>([
      () => wrongValue(r),
      () => [String(groupId)],
      () => [groupId, 'x'],
      () => [groupId + 0.5],
      () => [-groupId],
      () => [0],
      () => [new RawJson('1e309')],
      () => [2 ** 53 + 2],
      () => [[groupId]],
      () => [{ id: groupId }],
      () => [null],
      () => new Pairs([['0', groupId]]),
    ])();
  const breakers: (() => [string, unknown][])[] = [
    () => drop('mode'),
    () =>
      set(
        'mode',
        r.pick<unknown>([
          'add',
          'Add',
          'ADD ',
          ' ADD',
          'ADD\u0000',
          'MERGE',
          '',
          null,
          1,
          ['ADD'],
          { ADD: true },
          'ＡＤＤ',
          'ADD\u200b',
        ]),
      ),
    () => set('mode', oddString(r)),
    () => drop('attribute_ids'),
    () => set('attribute_ids', badIds()),
    () => set('attribute_ids', []),
    () =>
      set(
        'attribute_ids',
        Array.from({ length: r.int(21, 500) }, (_, i) => attributeId + i),
      ),
    () => set('attribute_ids', [r.int(10_000_000, 2 ** 40)]),
    () => set('group_ids', badIds()),
    () => set('group_ids', []),
    () => [...set('group_ids', []), ['project_ids', badIds()]],
    () => [...drop('group_ids'), ['project_ids', [r.int(10_000_000, 2 ** 40)]]],
    () =>
      set(
        'group_ids',
        Array.from({ length: r.int(101, 2000) }, (_, i) => groupId + i),
      ),
    () => [...pairs, ['project_ids', Array.from({ length: 100 }, (_, i) => i + 1)]],
    () => [...pairs, ['__proto__', { mode: 'ADD' }]],
    () => [...pairs, ['constructor', { prototype: { admin: true } }]],
    () => [...pairs.filter(([k]) => k !== 'mode'), ['mode', 'ADD'], ['mode', 'add']],
  ];
  return r.pick(breakers)();
}

function bulkCase(r: Rng, i: number): Sent {
  const label = `bulk#${i}`;
  const path = '/api/v4/security/attributes/bulk_update';
  if (r.chance(0.1)) {
    const valid = toJson(new Pairs(validBulkPairs()));
    return r.pick<() => Sent>([
      () => ({ label, method: 'POST', path }),
      () => ({ label, method: 'POST', path, body: '' }),
      () => ({ label, method: 'POST', path, body: valid.slice(0, r.int(1, valid.length - 1)) }),
      () => ({
        label,
        method: 'POST',
        path,
        body: valid,
        contentType: r.pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'text/html',
          'application/octet-stream',
        ]),
      }),
      () => ({ label, method: 'POST', path, body: toJson(wrongValue(r)) }),
      () => ({
        label,
        method: 'POST',
        path,
        body: r.pick(['null', 'true', '1', '"x"', '[]', '[1,2', '{"mode":}', '\ufeff{}']),
      }),
    ])();
  }
  const pairs = [...noise(r), ...breakBulk(r, validBulkPairs())];
  return { label, method: 'POST', path, body: toJson(new Pairs(pairs)) };
}

const oddParam = (r: Rng): string =>
  r.pick<() => string>([
    () => pct(oddString(r)),
    () => String(r.pick([0, -1, 1.5, 1e21, 2 ** 53, 2 ** 64, 100_001, 101, Number.MAX_SAFE_INTEGER])),
    () =>
      r.pick([
        '%',
        '%zz',
        '%00',
        '%ED%A0%80',
        '%C0%AF',
        '%FF',
        '..%2F..%2F',
        '%2F',
        '0x10',
        '1e3',
        ' 1',
        '1 ',
        '+1',
        'Infinity',
        'NaN',
        'true',
        '[]',
        '{}',
      ]),
    () => 'a'.repeat(r.int(1000, 20_000)),
  ])();

function getCase(r: Rng, i: number): Sent {
  const label = `get#${i}`;
  const listParams = () => {
    const names = [
      'page',
      'per_page',
      'sort',
      'status',
      'page[]',
      'status[0]',
      '__proto__',
      'constructor[prototype][x]',
      'per_page',
      oddString(r),
    ];
    const n = r.int(1, 4);
    return Array.from({ length: n }, () => `${pct(r.pick(names))}=${oddParam(r)}`).join('&');
  };
  return r.pick<() => Sent>([
    () => ({ label, method: 'GET', path: `/api/v4/offline_exports?${listParams()}` }),
    () => ({ label, method: 'GET', path: `/api/v4/offline_exports/${oddParam(r)}` }),
    () => ({ label, method: 'GET', path: `/api/v4/offline_exports/${oddParam(r)}?${listParams()}` }),
    () => ({ label, method: 'GET', path: `/api/v4/security/background_operations/${oddParam(r)}` }),
    () => ({
      label,
      method: 'GET',
      path: `/api/v4/security/background_operations/attribute_update_${FUZZ_USER.id}_${r.int(0, 2 ** 31)}_${oddParam(r)}`,
    }),
    () => ({
      label,
      method: 'GET',
      path: `/api/v4/security/background_operations/attribute_update_2_${r.int(0, 2 ** 31)}_0123abcd`,
    }),
    () => ({
      label,
      method: r.pick(['PUT', 'PATCH', 'DELETE']),
      path: r.pick(['/api/v4/offline_exports', '/api/v4/offline_exports/1', '/api/v4/security/attributes/bulk_update']),
    }),
    () => ({ label, method: 'GET', path: `/api/v4/offline_exports/1/${oddParam(r)}` }),
    () => ({
      label,
      method: 'GET',
      path: '/api/v4/offline_exports',
      headers: {
        'PRIVATE-TOKEN': r.pick([
          '',
          ' ',
          'glpat-seed-nobody',
          'x'.repeat(r.int(513, 8000)),
          token.toUpperCase(),
          `${token}\u00ff`,
          '%00',
        ]),
      },
    }),
    () => ({
      label,
      method: 'GET',
      path: '/api/v4/offline_exports',
      headers: {
        Authorization: r.pick(['Bearer', 'Bearer ', `Basic ${token}`, `Bearer ${token} extra`, 'Bearer \u00e9']),
      },
    }),
  ])();
}

// --- The test ---

beforeAll(async () => {
  api = await startTestApi(taskQueues);
  const roots = await rootGroupIds(api.deps.sql);
  token = await createUser(api.deps.sql, FUZZ_USER, { groupIds: roots, level: 50 });
  groupId = await namespaceIdByPath(api.deps.sql, 'gitlab-org');
  const [attribute] = await api.deps.sql<
    { id: number }[]
  >`select id from security_attributes where namespace_id = ${groupId} order by id limit 1`;
  attributeId = Number(attribute!.id);
  // The valid requests the cases are derived from are accepted as far as validation goes: the generator really
  // tests the checks, not a request that was refused anyway.
  before = await writtenRows(api.deps.sql);
  await terminateLeftovers();
});

/** Workflows a failed earlier run of this file let through (user 900101 exists only in these tests). */
async function terminateLeftovers() {
  for await (const w of api.deps.temporal.workflow.list({
    query: `GitlabUserId = ${FUZZ_USER.id} AND ExecutionStatus = "Running"`,
  })) {
    await api.deps.temporal.workflow
      .getHandle(w.workflowId, w.runId)
      .terminate('security fuzz cleanup')
      .catch(() => undefined);
  }
}

afterAll(async () => {
  if (api) await terminateLeftovers();
  await api?.close();
});

async function runAll(
  cases: Sent[],
  concurrency: number,
  allowOk: (req: Sent) => boolean,
  beforeEach?: () => Promise<unknown>,
) {
  const problems: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < cases.length) {
      const req = cases[next++]!;
      if (beforeEach) await beforeEach();
      const answer = await send(req).catch((err: unknown) => ({
        status: 599,
        text: `fetch failed: ${String(err)}`,
        json: undefined,
      }));
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const problem = checkRefused(req, answer, allowOk(req));
      if (problem) problems.push(problem);
    }
  });
  await Promise.all(workers);
  return { problems, statuses };
}

async function expectNothingWritten() {
  expect(await writtenRows(api.deps.sql)).toEqual(before);
  expect(await operationKeys(api.deps.redis, FUZZ_USER.id)).toEqual([]);
  const byQueue = await api.deps.temporal.workflow.count(
    `TaskQueue = "${taskQueues.export}" OR TaskQueue = "${taskQueues.bulkUpdate}"`,
  );
  const byUser = await api.deps.temporal.workflow.count(
    `GitlabUserId = ${FUZZ_USER.id} AND StartTime > "${testStart}"`,
  );
  expect({ byQueue: byQueue.count, byUser: byUser.count }).toEqual({ byQueue: 0, byUser: 0 });
}

async function expectStillAnswering() {
  const health = await fetch(`${api.url}/-/health`);
  expect(health.status).toBe(200);
  expect(await api.request('GET', '/api/v4/user', { token })).toMatchObject({
    status: 200,
    body: { id: FUZZ_USER.id },
  });
}

describe('API fuzzing', () => {
  it(`refuses ${EXPORT_CASES} malformed export requests with a 4xx JSON message and writes nothing`, async () => {
    const r = prng(SEED);
    const cases = Array.from({ length: EXPORT_CASES }, (_, i) => exportCase(r, i));
    // The rate limit (6 a minute) is cleared before each request so the bodies reach validation.
    const { problems, statuses } = await runAll(
      cases,
      1,
      () => false,
      () => api.deps.redis.del(rateLimitKey),
    );
    expect(problems).toEqual([]);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(EXPORT_CASES * 0.6); // most bodies got as far as the checks
    expect(statuses.get(429) ?? 0).toBe(0);
    await expectNothingWritten();
    await expectStillAnswering();
  }, 240_000);

  it(`refuses ${BULK_CASES} malformed bulk-update requests with a 4xx JSON message and writes nothing`, async () => {
    const r = prng(SEED + 1);
    const cases = Array.from({ length: BULK_CASES }, (_, i) => bulkCase(r, i));
    const { problems, statuses } = await runAll(cases, 4, () => false);
    expect(problems).toEqual([]);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(BULK_CASES * 0.6);
    await expectNothingWritten();
    await expectStillAnswering();
  }, 240_000);

  it(`answers ${GET_CASES} odd reads, paths, methods and tokens without a 5xx and with JSON errors`, async () => {
    const r = prng(SEED + 2);
    const cases = Array.from({ length: GET_CASES }, (_, i) => getCase(r, i));
    const { problems } = await runAll(cases, 4, (req) => req.method === 'GET');
    expect(problems).toEqual([]);
    await expectNothingWritten();
    await expectStillAnswering();
  }, 240_000);

  it('refuses the huge ones: 100,000 ids, 10,000 levels of nesting, megabytes of string, 50,000 entities', async () => {
    const big: Sent[] = [
      {
        label: '100k group ids',
        method: 'POST',
        path: '/api/v4/security/attributes/bulk_update',
        body: toJson({
          group_ids: Array.from({ length: 100_000 }, (_, i) => i + 1),
          attribute_ids: [attributeId],
          mode: 'ADD',
        }),
      },
      {
        label: '100k attribute ids',
        method: 'POST',
        path: '/api/v4/security/attributes/bulk_update',
        body: toJson({
          group_ids: [groupId],
          attribute_ids: Array.from({ length: 100_000 }, (_, i) => i + 1),
          mode: 'ADD',
        }),
      },
      {
        label: '100k project ids (over 1 MiB)',
        method: 'POST',
        path: '/api/v4/security/attributes/bulk_update',
        body: toJson({
          project_ids: Array.from({ length: 100_000 }, (_, i) => 1_000_000 + i),
          attribute_ids: [attributeId],
          mode: 'ADD',
        }),
      },
      {
        label: '10k nested arrays (bulk)',
        method: 'POST',
        path: '/api/v4/security/attributes/bulk_update',
        body: toJson(
          new Pairs([
            ['group_ids', nested(10_000)],
            ['attribute_ids', [attributeId]],
            ['mode', 'ADD'],
          ]),
        ),
      },
      {
        label: '10k nested objects (bulk)',
        method: 'POST',
        path: '/api/v4/security/attributes/bulk_update',
        body: toJson(
          new Pairs([
            ['group_ids', [groupId]],
            ['attribute_ids', [attributeId]],
            ['mode', nestedObject(10_000)],
          ]),
        ),
      },
      {
        label: '10k nested body',
        method: 'POST',
        path: '/api/v4/security/attributes/bulk_update',
        body: nested(10_000).text,
      },
      { label: '100k nested body', method: 'POST', path: '/api/v4/offline_exports', body: nested(100_000).text },
      {
        label: '10k nested entities',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([
            ...validExportPairs().filter(([k]) => k !== 'entities'),
            ['entities', nested(10_000, '{"full_path":"gitlab-org"}')],
          ]),
        ),
      },
      {
        label: '10k nested objects in configuration',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([
            ...validExportPairs().filter(([k]) => k !== 's3_compatible_configuration'),
            ['s3_compatible_configuration', nestedObject(10_000)],
          ]),
        ),
      },
      {
        label: '50k entities',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson({ entities: Array.from({ length: 50_000 }, (_, i) => ({ full_path: `g${i}` })), bucket: 'b' }),
      },
      {
        label: '30k distinct missing entities',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([
            ...validExportPairs().filter(([k]) => k !== 'entities'),
            ['entities', Array.from({ length: 30_000 }, (_, i) => ({ full_path: `m/${i}` }))],
          ]),
        ),
      },
      {
        label: '900 KB full path',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([
            ...validExportPairs().filter(([k]) => k !== 'entities'),
            ['entities', [{ full_path: 'x'.repeat(900_000) }]],
          ]),
        ),
      },
      {
        label: '900 KB of NULs in a full path',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([
            ...validExportPairs().filter(([k]) => k !== 'entities'),
            ['entities', [{ full_path: '\u0000'.repeat(150_000) }]],
          ]),
        ),
      },
      {
        label: '900 KB bucket',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([...validExportPairs().filter(([k]) => k !== 'bucket'), ['bucket', 'b'.repeat(900_000)]]),
        ),
      },
      {
        label: '900 KB secret',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson({
          ...Object.fromEntries(validExportPairs()),
          s3_compatible_configuration: {
            aws_access_key_id: 'a',
            aws_secret_access_key: 's'.repeat(900_000),
            region: 'r',
            endpoint: 'http://169.254.169.254',
          },
        }),
      },
      {
        label: '2 MiB body',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson({ bucket: 'x'.repeat(2 * 1024 * 1024) }),
      },
      {
        label: '2 MiB bulk body',
        method: 'POST',
        path: '/api/v4/security/attributes/bulk_update',
        body: toJson({ mode: 'x'.repeat(2 * 1024 * 1024) }),
      },
      {
        label: '20k keys',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([
            ...Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i] as [string, unknown]),
            ...validExportPairs().filter(([k]) => k !== 'bucket'),
          ]),
        ),
      },
      {
        label: '5k duplicate entities keys',
        method: 'POST',
        path: '/api/v4/offline_exports',
        body: toJson(
          new Pairs([
            ...validExportPairs(),
            ...Array.from({ length: 5_000 }, () => ['entities', []] as [string, unknown]),
          ]),
        ),
      },
      { label: 'huge query string', method: 'GET', path: `/api/v4/offline_exports?page=${'9'.repeat(50_000)}` },
      { label: 'huge id', method: 'GET', path: `/api/v4/offline_exports/${'9'.repeat(5_000)}` },
    ];
    const { problems, statuses } = await runAll(
      big,
      1,
      (req) => req.method === 'GET',
      () => api.deps.redis.del(rateLimitKey),
    );
    expect(problems).toEqual([]);
    expect(statuses.get(429) ?? 0).toBe(0);
    await expectNothingWritten();
    await expectStillAnswering();
  }, 240_000);

  it('leaves no prototype polluted in the API process', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

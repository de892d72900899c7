import { randomUUID } from 'node:crypto';
import { seedToken } from '../../db/seed/generate';
import { offlineExportWorkflowId } from '../../contracts/offline-export';
import { startTestApi, type TestApi } from '../helpers/api';
import { projectIdByPath } from '../../db/seed/lookups';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { seedCurlExampleBody } from '../helpers/dev-bucket';
import { createUser } from '../security/support';
import { insertOfflineExport } from '../../db/offline-export/create';
import { encryptCredentials } from '../../db/offline-export/credentials';

// The REST API of offline exports against the real stack. No worker polls the task queue, so the workflows these
// requests start stay queued until the test terminates them; what is tested here is the HTTP contract.
describe('offline exports API', () => {
  let api: TestApi;
  const taskQueue = `test-api-exports-${randomUUID().slice(0, 8)}`;
  const created: number[] = [];
  beforeAll(async () => {
    api = await startTestApi({ export: taskQueue });
    // Rate-limit windows outlive a test run; start every run with fresh ones.
    const keys = await api.deps.redis.keys('api_rate_limit:POST/api/v4/offline_exports-*');
    if (keys.length > 0) await api.deps.redis.del(...keys);
  });
  afterAll(async () => {
    for (const id of created) {
      await api.deps.temporal.workflow
        .getHandle(offlineExportWorkflowId(id))
        .terminate('test cleanup')
        .catch(() => undefined);
    }
    await api?.close();
  });

  const alice = seedToken('alice');
  const exportRequest = (fullPaths: string[]) => devBucketExportBody(api.deps.config, fullPaths);

  it("accepts the seed document's curl request as written (duplicate full_path key and all)", async () => {
    // The body of the MR's curl example, with the placeholders filled in for the local MinIO. JSON keeps the last
    // of the two full_path keys, so this exports flightjs/Flight, exactly as GitLab would.
    const raw = seedCurlExampleBody(api.deps.config);
    const res = await api.request('POST', '/api/v4/offline_exports', { token: alice, rawBody: raw });
    expect(res.status).toBe(201);
    const body = res.body as Record<string, unknown>;
    created.push(body.id as number);
    expect(body).toEqual({
      id: expect.any(Number),
      status: 'created',
      source_hostname: api.deps.config.INSTANCE_BASE_URL,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      has_failures: false,
      bucket: api.deps.config.S3_BUCKET,
      export_prefix: expect.stringMatching(/^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_export_[A-Za-z0-9]{8}$/),
    });
    expect(JSON.stringify(body)).not.toContain(api.deps.config.S3_SECRET_ACCESS_KEY);
    const [self] = await api.deps.sql<{ project_id: number; relation: string }[]>`
      select e.project_id, e.relation from bulk_import_exports e where e.offline_export_id = ${body.id as number}`;
    expect(self).toEqual({ project_id: await projectIdByPath(api.deps.sql, 'flightjs/Flight'), relation: 'self' });
  });

  it('shows only the caller their own exports, paginated and filtered', async () => {
    const list = await api.request('GET', '/api/v4/offline_exports?per_page=1&sort=desc', { token: alice });
    expect(list.status).toBe(200);
    expect((list.body as unknown[]).length).toBe(1);
    const one = await api.request('GET', `/api/v4/offline_exports/${created[0]}`, { token: alice });
    expect(one).toMatchObject({ status: 200, body: { id: created[0], status: 'created' } });
    // Another user's export is "not found", not "forbidden": its existence is not revealed.
    const other = await api.request('GET', `/api/v4/offline_exports/${created[0]}`, { token: seedToken('bob') });
    // GitLab's answer for a record its finder does not find (ActiveRecord::RecordNotFound), lower-case "found".
    expect(other).toEqual({ status: 404, body: { message: '404 Not found' } });
    const bobs = await api.request('GET', '/api/v4/offline_exports', { token: seedToken('bob') });
    expect((bobs.body as { id: number }[]).some((e) => e.id === created[0])).toBe(false);
    const finished = await api.request('GET', '/api/v4/offline_exports?status=finished', { token: alice });
    expect((finished.body as { status: string }[]).every((e) => e.status === 'finished')).toBe(true);
  });

  it("pages as GitLab's Kaminari does: per_page clamped to 100, page below 1 is page 1", async () => {
    const pager = await createUser(api.deps.sql, { id: 900_201, username: 'api-pager' });
    const [existing] = await api.deps.sql<{ n: number }[]>`
      select count(*)::int as n from import_offline_exports where user_id = 900201`;
    for (let i = existing?.n ?? 0; i < 105; i++) {
      await insertOfflineExport(api.deps.sql, {
        userId: 900_201,
        provider: 0,
        bucket: 'pager-bucket',
        exportPrefix: `2026-01-01_00-00-00_export_pager${String(i).padStart(3, '0')}`,
        sourceHostname: 'http://gitlab.example.test',
        credentials: encryptCredentials(
          {
            aws_access_key_id: 'AKIAPAGER',
            aws_secret_access_key: 'pager-secret',
            region: 'us-east-1',
            path_style: false,
          },
          api.deps.config.ENCRYPTION_KEY,
        ),
        groupIds: [],
        projectIds: [],
      });
    }
    const list = async (query: string) => {
      const res = await fetch(`${api.url}/api/v4/offline_exports?${query}`, { headers: { 'PRIVATE-TOKEN': pager } });
      const body = (await res.json()) as { id: number }[];
      const header = (name: string) => res.headers.get(name);
      return { status: res.status, ids: Array.isArray(body) ? body.map((e) => e.id) : body, header };
    };

    const clamped = await list('per_page=1000');
    expect(clamped.status).toBe(200);
    expect(clamped.ids).toHaveLength(100);
    expect([clamped.header('x-per-page'), clamped.header('x-total'), clamped.header('x-total-pages')]).toEqual([
      '100',
      '105',
      '2',
    ]);
    expect(clamped.header('link')).toContain('per_page=100');
    // The links keep what the endpoint reads (with its defaults) and drop the parameters it ignores.
    // (Four copies of a 10,000-character parameter would be more headers than fetch accepts.)
    const links = (await list(`status=created&per_page=1000&unknown=${'x'.repeat(10_000)}`)).header('link') ?? '';
    expect(links.split(', ')).toHaveLength(3); // next, first, last
    for (const link of links.split(', ')) expect(link).toMatch(/\?sort=desc&status=created&page=\d&per_page=100>/);
    const second = await list('page=2&per_page=500');
    expect(second.ids).toHaveLength(5);
    expect(second.ids).not.toContain(clamped.ids[0]);

    const first = await list('per_page=20');
    for (const query of ['per_page=-5', 'per_page=', 'page=0', 'page=-3', 'page=', 'unknown=1&page[x]=2']) {
      const res = await list(query);
      expect({
        query,
        status: res.status,
        ids: res.ids,
        page: res.header('x-page'),
        per: res.header('x-per-page'),
      }).toEqual({ query, status: 200, ids: first.ids, page: '1', per: '20' });
    }
    const beyond = await list('page=99999');
    expect({ status: beyond.status, ids: beyond.ids, page: beyond.header('x-page') }).toEqual({
      status: 200,
      ids: [],
      page: '99999',
    });

    const refused = async (query: string) => {
      const res = await fetch(`${api.url}/api/v4/offline_exports?${query}`, { headers: { 'PRIVATE-TOKEN': pager } });
      return { status: res.status, body: await res.json() };
    };
    // Grape's validation errors keep Grape's format, {"error": ...}, as GitLab's API answers them.
    expect(await refused('per_page=0')).toEqual({ status: 400, body: { error: 'per_page has a value not allowed' } });
    for (const bad of ['abc', '1.5', '1e3', '0x10']) {
      expect(await refused(`per_page=${bad}`)).toEqual({ status: 400, body: { error: 'per_page is invalid' } });
      expect(await refused(`page=${bad}`)).toEqual({ status: 400, body: { error: 'page is invalid' } });
    }
    expect(await refused('sort=sideways')).toEqual({
      status: 400,
      body: { error: 'sort does not have a valid value' },
    });
    // A repeated key counts with its last value, as Rack parses it.
    const repeated = await list('page=1&page=2&per_page=100');
    expect({ page: repeated.header('x-page'), ids: repeated.ids }).toEqual({ page: '2', ids: second.ids });
  });

  it('answers each kind of bad request with its status and a JSON message', async () => {
    const post = (body: unknown, token = alice) => api.request('POST', '/api/v4/offline_exports', { token, body });
    expect(await api.request('POST', '/api/v4/offline_exports', { body: {} })).toEqual({
      status: 401,
      body: { message: '401 Unauthorized' },
    });
    const malformed = await api.request('POST', '/api/v4/offline_exports', { token: alice, rawBody: '{"bucket": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ message: expect.any(String) });
    expect(await post(exportRequest([]))).toEqual({
      status: 422,
      body: { message: 'Export failed. Entity full paths must be provided.' },
    });
    const denied = await post(exportRequest(['gitlab-org']), seedToken('bob'));
    expect(denied).toEqual({
      status: 422,
      body: {
        message:
          'Export failed. You do not have permission to export the following resources or they do not exist: gitlab-org',
      },
    });
    expect((await api.request('GET', '/api/v4/offline_exports?sort=sideways', { token: alice })).status).toBe(400);
    expect(await api.request('GET', '/api/v4/offline_exports/abc', { token: alice })).toEqual({
      status: 400,
      body: { error: 'id is invalid' },
    });
    // Any integer is looked up as GitLab's find does: one that cannot be an export id is simply not found.
    for (const id of ['0', '-1', '99999999999', String(2 ** 53), '9'.repeat(40)]) {
      expect(await api.request('GET', `/api/v4/offline_exports/${id}`, { token: alice })).toEqual({
        status: 404,
        body: { message: '404 Not found' },
      });
    }
  });

  it("limits export requests to 6 per minute per user, with GitLab's RateLimit-* headers", async () => {
    // The limiter's periods are aligned to the clock minute, as GitLab's are: keep the eight requests in one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    // Each of these is refused (no entities) but still counts, as GitLab's throttle counts requests, not exports.
    const body = exportRequest([]);
    const post = (token: string) =>
      fetch(`${api.url}/api/v4/offline_exports`, {
        method: 'POST',
        headers: { 'PRIVATE-TOKEN': token, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const responses: Response[] = [];
    for (let i = 0; i < 8; i++) responses.push(await post(seedToken('carol')));
    expect(responses.map((r) => r.status)).toEqual([422, 422, 422, 422, 422, 422, 429, 429]);
    const header = (r: Response | undefined, name: string) => r?.headers.get(name) ?? null;
    const reset = Number(header(responses[0], 'ratelimit-reset'));
    expect(reset % 60).toBe(0); // the end of the clock minute
    expect(reset * 1000).toBeGreaterThan(Date.now());
    expect(
      ['ratelimit-name', 'ratelimit-limit', 'ratelimit-observed', 'ratelimit-remaining'].map((h) =>
        header(responses[0], h),
      ),
    ).toEqual(['offline_export', '6', '1', '5']);
    // Only a refused request says when to come back.
    expect([header(responses[0], 'retry-after'), header(responses[0], 'ratelimit-resettime')]).toEqual([null, null]);
    expect([header(responses[5], 'ratelimit-observed'), header(responses[5], 'ratelimit-remaining')]).toEqual([
      '6',
      '0',
    ]);

    const limited = responses[7]!;
    expect([header(limited, 'ratelimit-observed'), header(limited, 'ratelimit-remaining')]).toEqual(['8', '0']);
    expect(Number(header(limited, 'ratelimit-reset'))).toBe(reset);
    expect(header(limited, 'ratelimit-resettime')).toBe(new Date(reset * 1000).toUTCString());
    const retryAfter = Number(header(limited, 'retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(Math.abs(Date.now() / 1000 + retryAfter - reset)).toBeLessThanOrEqual(2);
    // check_rate_limit! answers render_api_error!({ error: ... }, 429): the message is an object.
    expect(await limited.json()).toEqual({
      message: { error: 'This endpoint has been requested too many times. Try again later.' },
    });
    // Another user is not affected.
    const other = await post(seedToken('dave'));
    expect([other.status, header(other, 'ratelimit-observed')]).toEqual([422, '1']);
    // Routes without a limit carry no RateLimit headers.
    const list = await fetch(`${api.url}/api/v4/offline_exports`, { headers: { 'PRIVATE-TOKEN': seedToken('carol') } });
    expect(list.headers.get('ratelimit-name')).toBeNull();
  });
});

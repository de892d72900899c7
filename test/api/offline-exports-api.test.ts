import { randomUUID } from 'node:crypto';
import { seedToken } from '../../db/seed/generate';
import { offlineExportWorkflowId } from '../../contracts/offline-export';
import { startTestApi, type TestApi } from '../helpers/api';
import { projectIdByPath } from '../../db/seed/lookups';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { seedCurlExampleBody } from '../helpers/dev-bucket';

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
    expect(other).toEqual({ status: 404, body: { message: '404 Offline Export Not Found' } });
    const bobs = await api.request('GET', '/api/v4/offline_exports', { token: seedToken('bob') });
    expect((bobs.body as { id: number }[]).some((e) => e.id === created[0])).toBe(false);
    const finished = await api.request('GET', '/api/v4/offline_exports?status=finished', { token: alice });
    expect((finished.body as { status: string }[]).every((e) => e.status === 'finished')).toBe(true);
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
    expect((await api.request('GET', '/api/v4/offline_exports/abc', { token: alice })).status).toBe(400);
  });

  it('limits export requests to 6 per minute per user', async () => {
    // Each of these is refused (no entities) but still counts, as GitLab's throttle counts requests, not exports.
    const body = exportRequest([]);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await api.request('POST', '/api/v4/offline_exports', { token: seedToken('carol'), body })).status);
    }
    expect(statuses.slice(0, 6)).toEqual([422, 422, 422, 422, 422, 422]);
    expect(statuses.slice(6)).toEqual([429, 429]);
    const limited = await api.request('POST', '/api/v4/offline_exports', { token: seedToken('carol'), body });
    expect(limited.body).toEqual({ message: 'This endpoint has been requested too many times. Try again later.' });
    // Another user is not affected.
    expect((await api.request('POST', '/api/v4/offline_exports', { token: seedToken('dave'), body })).status).toBe(422);
  });
});

import { seedToken } from '../../db/seed/generate';
import { createLogger } from '../../contracts/logger';
import { createSql, withDatabase } from '../../db/sql';
import { startTestApi, type TestApi } from '../helpers/api';

// Request ids and the access log, on the real API: one structured line per request through the API's logger.
describe('request ids and the access log', () => {
  let api: TestApi;
  let lines: Record<string, unknown>[];
  beforeAll(async () => {
    api = await startTestApi();
    // The server reads deps.log on every request: swap in a logger that keeps its lines.
    api.deps.log = createLogger({
      level: 'info',
      component: 'api',
      write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    });
  });
  beforeEach(() => {
    lines = [];
  });
  afterAll(async () => api?.close());

  const accessLines = () => lines.filter((l) => l.msg === 'api request');
  const waitForLines = async (n: number) => {
    // The access line is written once the response has gone out, which may be just after fetch resolves.
    for (let i = 0; i < 50 && accessLines().length < n; i++) await new Promise((r) => setTimeout(r, 20));
    return accessLines();
  };

  it('keeps a safe incoming X-Request-Id, echoes it, and logs one line per request without secrets', async () => {
    const token = seedToken('alice');
    const res = await fetch(`${api.url}/api/v4/offline_exports?per_page=5&private_token=${token}`, {
      headers: { 'PRIVATE-TOKEN': token, 'X-Request-Id': 'req-abc.123:XYZ' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc.123:XYZ');
    const [line] = await waitForLines(1);
    expect(line).toEqual({
      time: expect.any(String),
      level: 'info',
      msg: 'api request',
      component: 'api',
      request_id: 'req-abc.123:XYZ',
      method: 'GET',
      route: '/api/v4/offline_exports',
      status: 200,
      duration_ms: expect.any(Number),
      user_id: 2,
    });
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('replaces a missing, overlong or unsafe request id with a generated one', async () => {
    const ids: string[] = [];
    for (const given of [undefined, 'x'.repeat(129), 'bad id\twith spaces', 'inject"quote']) {
      const res = await fetch(`${api.url}/-/health`, { headers: given === undefined ? {} : { 'X-Request-Id': given } });
      const id = res.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      ids.push(id);
    }
    expect(new Set(ids).size).toBe(4);
    expect((await waitForLines(4)).map((l) => l.request_id)).toEqual(ids);
  });

  it('logs refused and unauthenticated requests too, with their status and no user', async () => {
    const res = await fetch(`${api.url}/api/v4/offline_exports`, { headers: { 'PRIVATE-TOKEN': 'glpat-wrong' } });
    expect(res.status).toBe(401);
    const id = res.headers.get('x-request-id');
    expect(id).toBeTruthy();
    const [line] = await waitForLines(1);
    expect(line).toMatchObject({ request_id: id, status: 401, user_id: null, route: '/api/v4/offline_exports' });
    expect(JSON.stringify(lines)).not.toContain('glpat-wrong');
    // An unknown route has no route pattern: the line says so rather than logging the raw URL.
    await fetch(`${api.url}/api/v4/nothing?private_token=secret-value`, { headers: { 'PRIVATE-TOKEN': 'x' } });
    const [, unknown] = await waitForLines(2);
    expect(unknown).toMatchObject({ status: 404, route: null });
    expect(JSON.stringify(lines)).not.toContain('secret-value');
  });

  it('logs a server error with its request id, and answers only a generic 500', async () => {
    // A database that does not exist: every query fails, as when PostgreSQL is unreachable.
    const working = api.deps.sql;
    const broken = createSql(withDatabase(api.deps.config.DATABASE_URL, 'no_such_database_for_api_test'), { max: 1 });
    api.deps.sql = broken;
    try {
      const res = await fetch(`${api.url}/api/v4/user`, {
        headers: { 'PRIVATE-TOKEN': seedToken('alice'), 'X-Request-Id': 'failing-request-1' },
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: '500 Internal Server Error' });
      expect(res.headers.get('x-request-id')).toBe('failing-request-1');
    } finally {
      api.deps.sql = working;
      await broken.end({ timeout: 1 });
    }
    await waitForLines(1);
    const failure = lines.find((l) => l.msg === 'api request failed');
    expect(failure).toMatchObject({ level: 'error', request_id: 'failing-request-1', route: '/api/v4/user' });
    expect(JSON.stringify(failure)).toContain('no_such_database_for_api_test');
    expect(accessLines()).toEqual([expect.objectContaining({ request_id: 'failing-request-1', status: 500 })]);
  });
});

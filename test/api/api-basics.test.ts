import { seedToken } from '../../db/seed/generate';
import { startTestApi, type TestApi } from '../helpers/api';

describe('API basics', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => api?.close());

  it('answers health and readiness without a token', async () => {
    expect(await api.request('GET', '/-/health')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await api.request('GET', '/-/readiness')).toEqual({
      status: 200,
      body: { status: 'ok', checks: { postgresql: 'ok', redis: 'ok', temporal: 'ok' } },
    });
  });

  it('requires a valid personal access token', async () => {
    expect(await api.request('GET', '/api/v4/user')).toEqual({ status: 401, body: { message: '401 Unauthorized' } });
    expect(await api.request('GET', '/api/v4/user', { token: 'glpat-wrong' })).toEqual({
      status: 401,
      body: { message: '401 Unauthorized' },
    });
    // A blocked user's token is refused even though the token itself is valid.
    expect((await api.request('GET', '/api/v4/user', { token: seedToken('frank') })).status).toBe(401);
  });

  it('identifies the caller by PRIVATE-TOKEN', async () => {
    expect(await api.request('GET', '/api/v4/user', { token: seedToken('alice') })).toEqual({
      status: 200,
      body: { id: 2, username: 'alice', name: 'Alice', email: 'alice@example.test' },
    });
  });

  it('answers unknown routes with a JSON 404', async () => {
    expect(await api.request('GET', '/api/v4/nothing-here', { token: seedToken('alice') })).toEqual({
      status: 404,
      body: { message: '404 Not Found' },
    });
  });
});

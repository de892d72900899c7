import { randomUUID } from 'node:crypto';
import { seedToken, SEED_USERS } from '../../db/seed/generate';
import { startTestApi, type TestApi } from '../helpers/api';
import { writtenRows } from '../helpers/database';
import { firstProjectUnder } from '../../db/seed/lookups';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';

// Who may do what, through the real API: each seeded role × exporting a group, exporting a project, starting an
// attribute bulk update, and reading someone else's export or operation. GitLab's rules: a group export needs
// Owner (admin_group), a project export Maintainer or above (admin_project), a bulk update Maintainer or above on
// the attributes' root group (admin_security_attributes); admins may do everything; a blocked user's token is
// refused outright (401); someone else's export or operation is a 404 ("404 Not found", "404 Background Operation
// Not Found"), never 403.
//
// No worker polls the task queues here: accepted requests start workflows that stay queued, terminated afterwards.

let api: TestApi;
const taskQueues = {
  export: `test-access-export-${randomUUID().slice(0, 8)}`,
  bulkUpdate: `test-access-bulk-${randomUUID().slice(0, 8)}`,
};
let projectPath: string;
let projectId: number;
let attributeId: number;
const workflows: string[] = [];

type Role = 'root' | 'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'grace' | 'frank';

beforeAll(async () => {
  api = await startTestApi(taskQueues);
  ({ path: projectPath, id: projectId } = await firstProjectUnder(api.deps.sql, 'gitlab-org'));
  const [attribute] = await api.deps.sql<{ id: number }[]>`
    select a.id from security_attributes a join routes r on r.source_type = 'Namespace' and r.source_id = a.namespace_id
    where r.path = 'gitlab-org' and a.deleted_at is null order by a.id limit 1`;
  attributeId = Number(attribute!.id);
  await clearRateLimits();
});
afterAll(async () => {
  await Promise.allSettled(
    workflows.map((id) => api.deps.temporal.workflow.getHandle(id).terminate('security test cleanup')),
  );
  await api?.close();
});

async function clearRateLimits() {
  const keys = await api.deps.redis.keys('api_rate_limit:POST/api/v4/offline_exports-*');
  if (keys.length > 0) await api.deps.redis.del(...keys);
}

const exportBody = (fullPath: string) => devBucketExportBody(api.deps.config, [fullPath]);

const denied = (path: string) =>
  `Export failed. You do not have permission to export the following resources or they do not exist: ${path}`;
const UNAUTHORIZED = { status: 401, body: { message: '401 Unauthorized' } };

async function exportAs(role: Role, fullPath: string) {
  await clearRateLimits();
  const before = await writtenRows(api.deps.sql);
  const res = await api.request('POST', '/api/v4/offline_exports', {
    token: seedToken(role),
    body: exportBody(fullPath),
  });
  if (res.status === 201) workflows.push(`offline-export:${(res.body as { id: number }).id}`);
  else expect(await writtenRows(api.deps.sql)).toEqual(before);
  return res;
}

describe('access matrix', () => {
  // [role, group export, project export, bulk update]
  const matrix: [Role, 'ok' | 'denied' | 401, 'ok' | 'denied' | 401, 'ok' | 'denied' | 401][] = [
    ['root', 'ok', 'ok', 'ok'], // admin
    ['alice', 'ok', 'ok', 'ok'], // Owner
    ['bob', 'denied', 'ok', 'ok'], // Maintainer
    ['carol', 'denied', 'denied', 'denied'], // Developer
    ['dave', 'denied', 'denied', 'denied'], // Reporter
    ['erin', 'denied', 'denied', 'denied'], // Guest
    ['grace', 'denied', 'denied', 'denied'], // not a member
    ['frank', 401, 401, 401], // blocked (although Owner)
  ];

  it.each(matrix)(
    '%s: group export %s, project export %s, bulk update %s',
    async (role, group, project, bulk) => {
      const g = await exportAs(role, 'gitlab-org');
      if (group === 401) expect(g).toEqual(UNAUTHORIZED);
      else if (group === 'ok') expect(g).toMatchObject({ status: 201, body: { status: 'created' } });
      else expect(g).toEqual({ status: 422, body: { message: denied('gitlab-org') } });

      const p = await exportAs(role, projectPath);
      if (project === 401) expect(p).toEqual(UNAUTHORIZED);
      else if (project === 'ok') expect(p).toMatchObject({ status: 201, body: { status: 'created' } });
      else expect(p).toEqual({ status: 422, body: { message: denied(projectPath) } });

      const before = await writtenRows(api.deps.sql);
      const b = await api.request('POST', '/api/v4/security/attributes/bulk_update', {
        token: seedToken(role),
        body: { project_ids: [projectId], attribute_ids: [attributeId], mode: 'ADD' },
      });
      if (bulk === 401) expect(b).toEqual(UNAUTHORIZED);
      else if (bulk === 'ok') {
        expect(b).toMatchObject({ status: 202, body: { operation_id: expect.any(String) } });
        workflows.push((b.body as { workflow_id: string }).workflow_id);
      } else {
        expect(b).toEqual({
          status: 422,
          body: {
            message:
              "The resource that you are attempting to access does not exist or you don't have permission to perform this action",
          },
        });
        expect(await writtenRows(api.deps.sql)).toEqual(before);
      }
    },
    60_000,
  );

  it("answers 404 to anyone reading another user's export or operation, admins included, and 401 to a blocked owner", async () => {
    await clearRateLimits();
    const created = await api.request('POST', '/api/v4/offline_exports', {
      token: seedToken('alice'),
      body: exportBody('flightjs/Flight'),
    });
    expect(created.status).toBe(201);
    const exportId = (created.body as { id: number }).id;
    workflows.push(`offline-export:${exportId}`);
    const started = await api.request('POST', '/api/v4/security/attributes/bulk_update', {
      token: seedToken('alice'),
      body: { project_ids: [projectId], attribute_ids: [attributeId], mode: 'REMOVE' },
    });
    expect(started.status).toBe(202);
    const operationId = (started.body as { operation_id: string }).operation_id;
    workflows.push((started.body as { workflow_id: string }).workflow_id);

    expect(
      await api.request('GET', `/api/v4/offline_exports/${exportId}`, { token: seedToken('alice') }),
    ).toMatchObject({ status: 200, body: { id: exportId } });
    for (const role of ['root', 'bob', 'carol', 'erin', 'grace'] as const) {
      expect(await api.request('GET', `/api/v4/offline_exports/${exportId}`, { token: seedToken(role) })).toEqual({
        status: 404,
        body: { message: '404 Not found' },
      });
      const list = await api.request('GET', '/api/v4/offline_exports?per_page=100', { token: seedToken(role) });
      expect(list.status).toBe(200);
      expect((list.body as { id: number }[]).map((e) => e.id)).not.toContain(exportId);
      expect(
        await api.request('GET', `/api/v4/security/background_operations/${operationId}`, { token: seedToken(role) }),
      ).toEqual({
        status: 404,
        body: { message: '404 Background Operation Not Found' },
      });
    }
    expect(await api.request('GET', `/api/v4/offline_exports/${exportId}`, { token: seedToken('frank') })).toEqual(
      UNAUTHORIZED,
    );
    expect(
      await api.request('GET', `/api/v4/security/background_operations/${operationId}`, { token: seedToken('frank') }),
    ).toEqual(UNAUTHORIZED);
    // No token, or a token that differs in one letter.
    expect(await api.request('GET', `/api/v4/offline_exports/${exportId}`)).toEqual(UNAUTHORIZED);
    expect(await api.request('GET', `/api/v4/offline_exports/${exportId}`, { token: 'glpat-seed-alicE' })).toEqual(
      UNAUTHORIZED,
    );
  }, 60_000);

  it('refuses a revoked or expired token, and a token without the api scope', async () => {
    const [user] = await api.deps.sql<{ id: number }[]>`select id from users where username = 'alice'`;
    expect(Number(user!.id)).toBe(SEED_USERS.owner.id);
    const { tokenDigest } = await import('../../db/users');
    const cases: [string, string][] = [
      ['glpat-security-revoked', 'revoked'],
      ['glpat-security-expired', 'expired'],
      ['glpat-security-readonly', 'scope'],
    ];
    for (const [token, kind] of cases) {
      await api.deps.sql`
        insert into personal_access_tokens (user_id, name, token_digest, revoked, expires_at, scopes)
        values (${SEED_USERS.owner.id}, ${kind}, ${tokenDigest(token)}, ${kind === 'revoked'},
                ${kind === 'expired' ? new Date('2020-01-01') : null}, ${kind === 'scope' ? ['read_api'] : ['api']})
        on conflict do nothing`;
      expect(await api.request('GET', '/api/v4/offline_exports', { token })).toEqual(UNAUTHORIZED);
    }
  });
});

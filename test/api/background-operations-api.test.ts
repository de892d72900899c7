import { seedToken } from '../../db/seed/generate';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { failedItemsKey, operationKey } from '../../db/bulk-update/redis-store';
import { startTestApi, type TestApi } from '../helpers/api';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { waitFor } from '../helpers/wait';
import { projectsUnder } from '../bulk-update/support/instance';

interface FailedItem {
  entity_type: string;
  entity_id: number;
  entity_full_path?: string;
  error_message: string;
  errors: string[];
  error_code: string;
}

// The list, failed-items and cancel endpoints of bulk-update operations against the real stack: a real worker runs
// the operation that fails on every project; a second API starts operations on the task queue of a second worker
// that only starts polling once the test has cancelled them, so that they are still running when cancelled.
describe('background operations API: list, failed items, cancel', () => {
  let tw: TestWorker;
  let api: TestApi;
  let later: TestWorker;
  let idle: TestApi;
  let projectIds: number[];
  const alice = seedToken('alice');
  const toTerminate: string[] = [];
  beforeAll(async () => {
    tw = await startTestWorker('api-operations');
    later = await startTestWorker('api-operations-later');
    api = await startTestApi({ bulkUpdate: tw.taskQueue });
    idle = await startTestApi({ bulkUpdate: later.taskQueue });
    projectIds = (await projectsUnder(api.deps.sql, await namespaceIdByPath(api.deps.sql, 'gitlab-org'))).slice(0, 3);
  });
  afterAll(async () => {
    for (const workflowId of toTerminate) {
      await api.deps.temporal.workflow
        .getHandle(workflowId)
        .terminate('test cleanup')
        .catch(() => undefined);
    }
    await idle?.close();
    await api?.close();
    await later?.close();
    await tw?.close();
  });

  const get = async (path: string, token = alice) => {
    const res = await fetch(`${api.url}${path}`, { headers: { 'PRIVATE-TOKEN': token } });
    return { status: res.status, body: await res.json(), header: (h: string) => res.headers.get(h) };
  };
  const start = async (on: TestApi, attributeIds: number[]) => {
    const res = await on.request('POST', '/api/v4/security/attributes/bulk_update', {
      token: alice,
      body: { project_ids: projectIds, attribute_ids: attributeIds, mode: 'ADD' },
    });
    expect(res.status).toBe(202);
    return res.body as { operation_id: string; workflow_id: string };
  };

  it("pages an operation's failed items from PostgreSQL once its Redis keys are gone", async () => {
    const { sql } = api.deps;
    // Two attributes of the single-selection Exposure category at once: every project refuses them.
    const attributes = [
      await attributeIdByName(sql, 'gitlab-org', 'Internet facing'),
      await attributeIdByName(sql, 'gitlab-org', 'Internal'),
    ];
    const { operation_id: id } = await start(api, attributes);
    await tw.run(() =>
      waitFor(
        async () => {
          const res = await get(`/api/v4/security/background_operations/${id}`);
          const body = res.body as { source: string; status: string };
          return body.source === 'workflow' && body.status === 'finished' ? body : undefined;
        },
        60_000,
        { what: `operation ${id} to finish` },
      ),
    );
    // Nothing of the operation is left in Redis: what follows can only come from PostgreSQL.
    expect(await api.deps.redis.exists(operationKey(id), failedItemsKey(id))).toBe(0);

    const first = await get(`/api/v4/security/background_operations/${id}/failed_items?per_page=2`);
    expect(first.status).toBe(200);
    expect([first.header('x-total'), first.header('x-total-pages'), first.header('x-next-page')]).toEqual([
      '3',
      '2',
      '2',
    ]);
    const second = await get(`/api/v4/security/background_operations/${id}/failed_items?per_page=2&page=2`);
    const items = [...(first.body as FailedItem[]), ...(second.body as FailedItem[])];
    expect(items.map((i) => i.entity_id)).toEqual([...projectIds].sort((a, b) => a - b));
    for (const item of items) {
      expect(item).toEqual({
        entity_type: 'Project',
        entity_id: expect.any(Number),
        entity_full_path: expect.stringMatching(/^gitlab-org\//),
        error_message: 'Invalid attributes',
        errors: [expect.stringMatching(/^Cannot add multiple attributes from the same category \d+$/)],
        error_code: 'service_error',
      });
    }
    expect((await get(`/api/v4/security/background_operations/${id}/failed_items?page=3&per_page=2`)).body).toEqual([]);

    // Someone else's operation is not found; a malformed id or page is Grape's 400.
    expect(await get(`/api/v4/security/background_operations/${id}/failed_items`, seedToken('bob'))).toMatchObject({
      status: 404,
      body: { message: '404 Background Operation Not Found' },
    });
    expect(await get('/api/v4/security/background_operations/nope/failed_items')).toMatchObject({
      status: 400,
      body: { error: 'id is invalid' },
    });
    expect(await get(`/api/v4/security/background_operations/${id}/failed_items?page=a`)).toMatchObject({
      status: 400,
      body: { error: 'page is invalid' },
    });

    // A finished operation cannot be cancelled.
    expect(await api.request('POST', `/api/v4/security/background_operations/${id}/cancel`, { token: alice })).toEqual({
      status: 409,
      body: { message: `Background operation ${id} cannot be cancelled: it has already finished` },
    });

    // The list shows it with its counts.
    const list = await get('/api/v4/security/background_operations?per_page=100');
    const listed = (list.body as { id: string }[]).find((o) => o.id === id);
    expect(listed).toEqual({
      id,
      operation_type: 'attribute_update',
      status: 'finished',
      total_items: 3,
      successful_items: 0,
      failed_items: 3,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      workflow_id: `bulk-update:${id}`,
    });
  });

  it('cancels a running operation, then refuses to cancel it again once its workflow has ended', async () => {
    const attribute = await attributeIdByName(api.deps.sql, 'gitlab-org', 'Payments');
    const { operation_id: id, workflow_id: workflowId } = await start(idle, [attribute]);
    toTerminate.push(workflowId);
    const path = `/api/v4/security/background_operations/${id}/cancel`;
    expect(await idle.request('POST', path, { token: seedToken('bob') })).toEqual({
      status: 404,
      body: { message: '404 Background Operation Not Found' },
    });
    expect(await idle.request('POST', path, { token: alice })).toEqual({
      status: 202,
      body: { id, status: 'cancel_requested' },
    });
    // Its worker starts now, finds the cancellation, and the workflow ends cancelled without updating anything.
    const handle = idle.deps.temporal.workflow.getHandle(workflowId);
    await later.run(() => handle.result().catch(() => undefined));
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const [processed] = await api.deps.sql<{ n: number }[]>`
      select count(*)::int as n from background_operation_projects where operation_id = ${id} and outcome is not null`;
    expect(processed!.n).toBe(0);

    expect(await idle.request('POST', path, { token: alice })).toEqual({
      status: 409,
      body: { message: `Background operation ${id} cannot be cancelled: its workflow is canceled` },
    });
    // The list says how it ended, which PostgreSQL alone does not know.
    const list = await get('/api/v4/security/background_operations?per_page=1');
    expect(list.body).toEqual([expect.objectContaining({ id, status: 'canceled', total_items: 0 })]);
  });

  it("lists only the caller's operations, newest first, paginated", async () => {
    const [count] = await api.deps.sql<{ n: number }[]>`
      select count(*)::int as n from background_operations where user_id = 2`;
    const pages: string[] = [];
    for (let page = 1; page <= count!.n; page++) {
      const res = await get(`/api/v4/security/background_operations?per_page=1&page=${page}`);
      expect([res.status, res.header('x-total'), res.header('x-page')]).toEqual([200, String(count!.n), String(page)]);
      pages.push(...(res.body as { id: string }[]).map((o) => o.id));
    }
    const newestFirst = await api.deps.sql<{ id: string }[]>`
      select id from background_operations where user_id = 2 order by created_at desc, id desc`;
    expect(pages).toEqual(newestFirst.map((r) => r.id));
    const bobs = await get('/api/v4/security/background_operations', seedToken('bob'));
    expect((bobs.body as { id: string }[]).some((o) => pages.includes(o.id))).toBe(false);
    expect(await get('/api/v4/security/background_operations?per_page=0')).toMatchObject({
      status: 400,
      body: { error: 'per_page has a value not allowed' },
    });
  });
});

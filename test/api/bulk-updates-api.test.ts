import { seedToken } from '../../db/seed/generate';
import { startTestApi, type TestApi } from '../helpers/api';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { attributeIdByName, namespaceIdByPath } from '../../db/seed/lookups';
import { projectsUnder } from '../bulk-update/support/instance';

// The bulk-update endpoints against the real stack, with a real worker running the workflows.
describe('security attribute bulk update API', () => {
  let tw: TestWorker;
  let api: TestApi;
  let projectIds: number[];
  let attributeId: number;
  beforeAll(async () => {
    tw = await startTestWorker('api-bulk');
    api = await startTestApi({ bulkUpdate: tw.taskQueue });
    projectIds = (await projectsUnder(api.deps.sql, await namespaceIdByPath(api.deps.sql, 'gitlab-org'))).slice(0, 3);
    attributeId = await attributeIdByName(api.deps.sql, 'gitlab-org', 'Payments');
  });
  afterAll(async () => {
    await api?.close();
    await tw?.close();
  });

  it('starts an update and reports its progress until the workflow has the last word', async () => {
    const token = seedToken('alice');
    const started = await api.request('POST', '/api/v4/security/attributes/bulk_update', {
      token,
      body: { project_ids: projectIds, attribute_ids: [attributeId], mode: 'ADD' },
    });
    expect(started).toEqual({
      status: 202,
      body: {
        message: 'Bulk update operation initiated',
        operation_id: expect.stringMatching(/^attribute_update_2_\d+_[0-9a-f]{8}$/),
        workflow_id: expect.stringMatching(/^bulk-update:attribute_update_2_/),
        errors: [],
      },
    });
    const operationId = (started.body as { operation_id: string }).operation_id;

    const final = await tw.run(async () => {
      for (let i = 0; i < 120; i++) {
        const res = await api.request('GET', `/api/v4/security/background_operations/${operationId}`, { token });
        expect(res.status).toBe(200);
        const body = res.body as { source: string; status: string };
        if (body.source === 'workflow' && body.status === 'finished') return body;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error('the operation did not finish');
    });
    expect(final).toMatchObject({
      id: operationId,
      total_items: 3,
      successful_items: 3,
      failed_items: 0,
      notification: 'not_needed',
    });
    const links = await api.deps.sql<{ n: number }[]>`
      select count(*)::int as n from project_to_security_attributes
      where security_attribute_id = ${attributeId} and project_id = any(${projectIds}::bigint[])`;
    expect(links[0]?.n).toBe(3);

    // Another user cannot read it.
    expect(
      await api.request('GET', `/api/v4/security/background_operations/${operationId}`, { token: seedToken('bob') }),
    ).toEqual({
      status: 404,
      body: { message: '404 Background Operation Not Found' },
    });
  });

  it("lists the failed items with GitLab's message and the reasons under it, after the operation too", async () => {
    const token = seedToken('alice');
    const { sql } = api.deps;
    // Two attributes of the single-selection Exposure category at once: every project refuses them.
    const internetFacing = await attributeIdByName(sql, 'gitlab-org', 'Internet facing');
    const internal = await attributeIdByName(sql, 'gitlab-org', 'Internal');
    const started = await api.request('POST', '/api/v4/security/attributes/bulk_update', {
      token,
      body: { project_ids: projectIds.slice(0, 2), attribute_ids: [internetFacing, internal], mode: 'ADD' },
    });
    expect(started.status).toBe(202);
    const operationId = (started.body as { operation_id: string }).operation_id;
    const final = await tw.run(async () => {
      for (let i = 0; i < 120; i++) {
        const res = await api.request('GET', `/api/v4/security/background_operations/${operationId}`, { token });
        const body = res.body as { source: string; status: string };
        if (body.source === 'workflow' && body.status === 'finished') return body;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error('the operation did not finish');
    });
    const [category] = await sql<{ id: number }[]>`
      select security_category_id as id from security_attributes where id = ${internal}`;
    expect(final).toMatchObject({ total_items: 2, successful_items: 0, failed_items: 2 });
    const failures = (final as unknown as { failures: Record<string, unknown>[] }).failures;
    expect(failures).toHaveLength(2);
    for (const f of failures) {
      expect(f).toMatchObject({
        entity_type: 'Project',
        error_message: 'Invalid attributes',
        error_code: 'service_error',
        errors: expect.arrayContaining([`Cannot add multiple attributes from the same category ${category!.id}`]),
      });
    }
  });

  it('refuses bad requests with 422 or 400 and starts nothing', async () => {
    const token = seedToken('alice');
    const [before] = await api.deps.sql<{ n: number }[]>`select count(*)::int as n from background_operations`;
    const tooMany = await api.request('POST', '/api/v4/security/attributes/bulk_update', {
      token,
      body: { project_ids: Array.from({ length: 101 }, (_, i) => i + 1), attribute_ids: [attributeId], mode: 'ADD' },
    });
    expect(tooMany).toEqual({ status: 422, body: { message: 'Too many items (maximum: 100)' } });
    const badMode = await api.request('POST', '/api/v4/security/attributes/bulk_update', {
      token,
      body: { project_ids: projectIds, attribute_ids: [attributeId], mode: 'MERGE' },
    });
    expect(badMode).toEqual({
      status: 422,
      body: { message: expect.stringMatching(/mode must be one of ADD, REMOVE, REPLACE/) },
    });
    expect(
      (await api.request('POST', '/api/v4/security/attributes/bulk_update', { token, rawBody: '[1,2' })).status,
    ).toBe(400);
    expect(await api.request('GET', '/api/v4/security/background_operations/nope', { token })).toEqual({
      status: 400,
      body: { error: 'id is invalid' },
    });
    const [after] = await api.deps.sql<{ n: number }[]>`select count(*)::int as n from background_operations`;
    expect(after?.n).toBe(before?.n);
  });
});

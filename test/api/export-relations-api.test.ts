import { seedToken } from '../../db/seed/generate';
import { CANCELLED_ERROR, offlineExportWorkflowId } from '../../contracts/offline-export';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { startTestApi, type TestApi } from '../helpers/api';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { waitFor } from '../helpers/wait';

interface Relation {
  portable_type: string;
  portable_id: number;
  portable_full_path: string | null;
  relation: string;
  status: string;
  error: string | null;
  batched: boolean;
  batches_count: number;
  total_objects_count: number;
  updated_at: string;
}

// An export's relations and its cancellation through the API, against the real stack with a real worker: one
// export runs to the end, another is cancelled as soon as it is accepted.
describe('offline export relations and cancel API', () => {
  let tw: TestWorker;
  let api: TestApi;
  const alice = seedToken('alice');
  beforeAll(async () => {
    tw = await startTestWorker('api-relations');
    api = await startTestApi({ export: tw.taskQueue });
  });
  afterAll(async () => {
    await api?.close();
    await tw?.close();
  });

  const get = async (path: string, token = alice) => {
    const res = await fetch(`${api.url}${path}`, { headers: { 'PRIVATE-TOKEN': token } });
    return { status: res.status, body: await res.json(), header: (h: string) => res.headers.get(h) };
  };
  const startExport = async (paths: string[]) => {
    const res = await api.request('POST', '/api/v4/offline_exports', {
      token: alice,
      body: devBucketExportBody(api.deps.config, paths),
    });
    expect(res.status).toBe(201);
    return (res.body as { id: number }).id;
  };
  const untilDone = (id: number) =>
    tw.run(() =>
      waitFor(
        async () => {
          const res = await get(`/api/v4/offline_exports/${id}`);
          const status = (res.body as { status: string }).status;
          return status === 'finished' || status === 'failed' ? status : undefined;
        },
        120_000,
        { what: `export ${id} to end` },
      ),
    );

  it("lists a finished export's relations, paginated, filtered and ordered by path then relation", async () => {
    const id = await startExport(['flightjs']);
    expect(await untilDone(id)).toBe('finished');

    const all = await get(`/api/v4/offline_exports/${id}/relations?per_page=100`);
    expect(all.status).toBe(200);
    const rows = all.body as Relation[];
    const [count] = await api.deps.sql<{ n: number }[]>`
      select count(*)::int as n from bulk_import_exports where offline_export_id = ${id}`;
    expect(rows).toHaveLength(count!.n);
    expect(all.header('x-total')).toBe(String(count!.n));
    // The group and its project, each with its 'self' row and its relations, all finished.
    const self = rows.filter((r) => r.relation === 'self');
    expect(self.map((r) => [r.portable_type, r.portable_full_path])).toEqual([
      ['group', 'flightjs'],
      ['project', 'flightjs/Flight'],
    ]);
    expect(rows.every((r) => r.status === 'finished' && r.error === null)).toBe(true);
    expect(rows.some((r) => r.portable_type === 'project' && r.relation === 'issues')).toBe(true);
    // Byte order, whatever the database's collation.
    const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const sorted = [...rows].sort(
      (a, b) => byBytes(a.portable_full_path ?? '', b.portable_full_path ?? '') || byBytes(a.relation, b.relation),
    );
    expect(rows.map((r) => [r.portable_full_path, r.relation])).toEqual(
      sorted.map((r) => [r.portable_full_path, r.relation]),
    );
    expect(rows[0]).toEqual({
      portable_type: 'group',
      portable_id: expect.any(Number),
      portable_full_path: 'flightjs',
      relation: expect.any(String),
      status: 'finished',
      error: null,
      batched: expect.any(Boolean),
      batches_count: expect.any(Number),
      total_objects_count: expect.any(Number),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const issues = rows.find((r) => r.portable_full_path === 'flightjs/Flight' && r.relation === 'issues')!;
    const [issueCount] = await api.deps.sql<{ n: number }[]>`
      select count(*)::int as n from issues i join routes r on r.source_type = 'Project' and r.source_id = i.project_id
      where r.path = 'flightjs/Flight'`;
    expect(issues.total_objects_count).toBe(issueCount!.n);

    // Pages of 2 walk the same rows in the same order, with GitLab's headers.
    const pages: Relation[] = [];
    for (let page = 1; page <= Math.ceil(rows.length / 2); page++) {
      const res = await get(`/api/v4/offline_exports/${id}/relations?per_page=2&page=${page}&status=finished`);
      expect([res.header('x-page'), res.header('x-per-page'), res.header('x-total')]).toEqual([
        String(page),
        '2',
        String(rows.length),
      ]);
      if (page === 1) expect(res.header('link')).toContain('status=finished&page=2&per_page=2');
      pages.push(...(res.body as Relation[]));
    }
    expect(pages).toEqual(rows);

    const selfOnly = await get(`/api/v4/offline_exports/${id}/relations?relation=self`);
    expect((selfOnly.body as Relation[]).map((r) => r.portable_full_path)).toEqual(['flightjs', 'flightjs/Flight']);
    expect((await get(`/api/v4/offline_exports/${id}/relations?status=failed`)).body).toEqual([]);
    expect((await get(`/api/v4/offline_exports/${id}/relations?relation=nothing_like_this`)).body).toEqual([]);

    // Bad filters are Grape's 400s; someone else's export and unknown ids are GitLab's RecordNotFound 404.
    expect(await get(`/api/v4/offline_exports/${id}/relations?status=done`)).toMatchObject({
      status: 400,
      body: { error: 'status does not have a valid value' },
    });
    expect(await get(`/api/v4/offline_exports/${id}/relations?per_page=x`)).toMatchObject({
      status: 400,
      body: { error: 'per_page is invalid' },
    });
    expect(await get(`/api/v4/offline_exports/abc/relations`)).toMatchObject({
      status: 400,
      body: { error: 'id is invalid' },
    });
    for (const [path, token] of [
      [`/api/v4/offline_exports/${id}/relations`, seedToken('bob')],
      ['/api/v4/offline_exports/99999999/relations', alice],
      ['/api/v4/offline_exports/0/relations', alice],
    ] as const) {
      expect(await get(path, token)).toMatchObject({ status: 404, body: { message: '404 Not found' } });
    }

    // A finished export cannot be cancelled; the answer says why and nothing changes.
    const cancel = await api.request('POST', `/api/v4/offline_exports/${id}/cancel`, { token: alice });
    expect(cancel).toEqual({
      status: 409,
      body: { message: `Export ${id} cannot be cancelled: it has already finished` },
    });
    expect(((await get(`/api/v4/offline_exports/${id}`)).body as { status: string }).status).toBe('finished');
  });

  it('cancels a running export: its unfinished relations fail with the reason, a second cancel is a 409', async () => {
    const id = await startExport(['gitlab-org']);
    // Someone else cannot cancel it: 404, as for reading it.
    expect(await api.request('POST', `/api/v4/offline_exports/${id}/cancel`, { token: seedToken('bob') })).toEqual({
      status: 404,
      body: { message: '404 Not found' },
    });
    const cancelled = await api.request('POST', `/api/v4/offline_exports/${id}/cancel`, { token: alice });
    expect(cancelled).toMatchObject({
      status: 200,
      body: { id, status: expect.stringMatching(/^(created|started)$/) },
    });
    expect(await untilDone(id)).toBe('failed');
    // The workflow closes as cancelled once it has cleaned up (email, credentials) after failing the export.
    const handle = api.deps.temporal.workflow.getHandle(offlineExportWorkflowId(id));
    await tw.run(() => handle.result().catch(() => undefined));
    expect((await handle.describe()).status.name).toBe('CANCELLED');

    const failed = await get(`/api/v4/offline_exports/${id}/relations?status=failed&per_page=100`);
    const rows = failed.body as Relation[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === 'failed' && r.error === CANCELLED_ERROR)).toBe(true);
    expect(((await get(`/api/v4/offline_exports/${id}/relations?status=pending`)).body as unknown[]).length).toBe(0);

    expect(await api.request('POST', `/api/v4/offline_exports/${id}/cancel`, { token: alice })).toEqual({
      status: 409,
      body: { message: `Export ${id} cannot be cancelled: it has already failed` },
    });
  });
});

import { randomBytes } from 'node:crypto';
import { processBatch } from '../../activities/bulk-update/process-batch';
import { planAttributeChange } from '../../activities/bulk-update/attribute-rules';
import { createRedisStore, failedItemsKey, operationKey, recordedItemsKey } from '../../db/bulk-update/redis-store';
import { generateOperationId } from '../../contracts/operation-id';
import { AccessLevel } from '../../db/access';
import { migrate } from '../../db/migrate';
import { insertOperation } from '../../db/bulk-update/operations';
import { savePlan } from '../../db/bulk-update/batches';
import { seedInstance } from '../../db/seed/generate';
import type { Sql } from '../../db/sql';
import { loadConfig } from '../../contracts/config';
import { closeDeps, createDeps, type Deps } from '../../worker/deps';
import { OPERATION_TYPE_ATTRIBUTE_UPDATE, type BulkUpdateMode } from '../../contracts/bulk-update';
import { createScratchDatabase } from '../helpers/database';
import { namespaceIdByPath } from '../../db/seed/lookups';
import { createUser, linksOf, projectsUnder } from './support/instance';

// The set-based batch (one transaction per batch) against GitLab's per-project loop (one transaction per project),
// over a matrix of starting states and requests that meets every rule of the update service in every mode: each
// scenario runs once per path from the same starting links, and the links, the outcome rows (messages and reasons
// included) and the Redis records must be identical. Then two operations over the same projects at once, in each
// path, must each come out as one of the two serial orders, project by project.

jest.setTimeout(240_000);

const BATCH = 7;
type Evaluation = 'set' | 'per-project';

interface Snapshot {
  links: [number, number[]][];
  outcomes: unknown[];
  redis: { hash: Record<string, string>; failed: unknown[]; recorded: string[] };
  counts: { successful: number; failed: number; appliedNow: number };
}

describe('set-based batches decide exactly as the per-project loop', () => {
  let scratch: { url: string; sql: Sql; drop: () => Promise<void> };
  let deps: Deps;
  let sql: Sql;
  let userId: number;
  let projects: number[];
  let initial: Map<number, number[]>;
  const attr: Record<string, number> = {};
  const tags: number[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase(`bulk_eq_${randomBytes(3).toString('hex')}`);
    sql = scratch.sql;
    await migrate(sql);
    await seedInstance(sql, { projects: 120, issues: 0 });
    deps = createDeps({ ...loadConfig(), DATABASE_URL: scratch.url }, 'test-bulk-equivalence');

    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const org2 = await namespaceIdByPath(sql, 'org-2');
    // Maintainer of gitlab-org; org-2's projects are readable but not administrable (GitLab's UnauthorizedError).
    userId = await createUser(sql, `bulk-eq-${randomBytes(3).toString('hex')}`, [
      { sourceType: 'Namespace', sourceId: org1, level: AccessLevel.MAINTAINER },
      { sourceType: 'Namespace', sourceId: org2, level: AccessLevel.REPORTER },
    ]);
    const category = async (ns: number, name: string, multiple: boolean) => {
      const [c] = await sql<{ id: number }[]>`
        insert into security_categories (namespace_id, name, multiple_selection, editable_state)
        values (${ns}, ${name}, ${multiple}, 20) returning id`;
      return Number(c!.id);
    };
    const attribute = async (ns: number, cat: number, name: string) => {
      const [a] = await sql<{ id: number }[]>`
        insert into security_attributes (namespace_id, security_category_id, name, description, color, editable_state)
        values (${ns}, ${cat}, ${name}, ${name}, '#aabbcc', 20) returning id`;
      return Number(a!.id);
    };
    const s1 = await category(org1, 'Eq single one', false);
    const s2 = await category(org1, 'Eq single two', false);
    const many = await category(org1, 'Eq tags', true);
    const foreign = await category(org2, 'Eq foreign', false);
    for (const n of ['s1a', 's1b', 's1c']) attr[n] = await attribute(org1, s1, n);
    for (const n of ['s2a', 's2b']) attr[n] = await attribute(org1, s2, n);
    for (let i = 1; i <= 45; i++) tags.push(await attribute(org1, many, `t${i}`));
    attr.deleted = await attribute(org1, s2, 'gone');
    attr.foreign = await attribute(org2, foreign, 'f1');
    attr.missing = 2_000_000_000;

    // Starting states, one per org-1 project in turn: empty, single-selection holders, 19, 20 and 21 tags, a link
    // to an attribute deleted later, ...; plus three org-2 projects (no permission).
    const org1Projects = (await projectsUnder(sql, org1)).slice(0, 24);
    const org2Projects = (await projectsUnder(sql, org2)).slice(0, 3);
    projects = [...org1Projects, ...org2Projects].sort((a, b) => a - b);
    const states: number[][] = [
      [],
      [attr.s1a!],
      [attr.s1b!, attr.s2a!],
      tags.slice(0, 19),
      tags.slice(0, 20),
      [...tags.slice(0, 18), attr.s1a!],
      [attr.deleted, attr.s1a!],
      [tags[0]!, tags[1]!],
      tags.slice(0, 21),
      [attr.s2b!],
    ];
    initial = new Map(projects.map((id) => [id, []]));
    org1Projects.forEach((id, i) => initial.set(id, states[i % states.length]!));
    await sql`update security_attributes set deleted_at = now() where id = ${attr.deleted}`;
    // An exception from the database for one project, only when t45 is linked to it: the set-based batch rolls back
    // and goes project by project, and that project alone gets the exception's message.
    await sql.unsafe(`
      create function bulk_eq_explode() returns trigger language plpgsql as $$
      begin
        if new.project_id = ${org1Projects[11]} and new.security_attribute_id = ${tags[44]} then
          raise exception 'storage unavailable for project %', new.project_id;
        end if;
        return new;
      end $$;
      create trigger bulk_eq_explode before insert on project_to_security_attributes
        for each row execute function bulk_eq_explode();`);
  });
  afterAll(async () => {
    if (deps) await closeDeps(deps);
    await scratch?.drop();
  });

  const resetLinks = async () => {
    await sql`delete from project_to_security_attributes where project_id = any(${projects}::bigint[])`;
    for (const [projectId, ids] of initial) {
      if (ids.length === 0) continue;
      await sql`
        insert into project_to_security_attributes (project_id, security_attribute_id, traversal_ids)
        select p.id, a, n.traversal_ids from projects p join namespaces n on n.id = p.namespace_id,
          unnest(${ids}::bigint[]) a
        where p.id = ${projectId}`;
    }
  };

  /** An operation planned by hand over exactly these projects (batches of BATCH in id order), tracked in Redis. */
  const newOperation = async (mode: BulkUpdateMode, attributeIds: number[], over = projects) => {
    const operationId = generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, userId);
    await insertOperation(sql, {
      id: operationId,
      operationType: OPERATION_TYPE_ATTRIBUTE_UPDATE,
      userId,
      workflowId: `test-eq:${operationId}`,
      mode,
      attributeIds,
      groupIds: [],
      projectIds: over,
    });
    await sql`
      insert into background_operation_projects (operation_id, project_id, batch_number)
      select ${operationId}, p, ((o - 1) / ${BATCH})::int from unnest(${over}::bigint[]) with ordinality as t(p, o)`;
    const batchCount = Math.ceil(over.length / BATCH);
    await savePlan(sql, operationId, { batchSize: BATCH, totalItems: over.length, batchCount, tracked: true });
    const store = createRedisStore(deps.redis);
    await store.createOperation({
      id: operationId,
      operationType: OPERATION_TYPE_ATTRIBUTE_UPDATE,
      userId,
      totalItems: over.length,
      parameters: { attribute_ids: attributeIds, mode },
    });
    return { operationId, batchCount };
  };

  const runBatches = async (evaluation: Evaluation, operationId: string, batchCount: number) => {
    const store = createRedisStore(deps.redis);
    const counts = { successful: 0, failed: 0, appliedNow: 0 };
    const decidedBy: string[] = [];
    for (let b = 0; b < batchCount; b++) {
      const r = await processBatch(
        { sql, store, evaluation, heartbeat: () => undefined },
        { operationId, batchNumber: b },
      );
      counts.successful += r.successful;
      counts.failed += r.failed;
      counts.appliedNow += r.appliedNow;
      decidedBy.push(r.decidedBy);
    }
    // The set-based evaluation went project by project only where it had to: the batch in which a project's insert
    // raises (the trigger below), and only when that project still had no outcome.
    if (evaluation === 'set') expect(decidedBy.filter((d) => d !== 'set')).toEqual(fallbacks.splice(0));
    return counts;
  };

  const snapshot = async (operationId: string, counts: Snapshot['counts']): Promise<Snapshot> => {
    const links = await linksOf(sql, projects);
    const outcomes = await sql`
      select project_id, outcome, error_code, error_message, error_details, entity_name, entity_full_path
      from background_operation_projects where operation_id = ${operationId} order by project_id`;
    const hash = await deps.redis.hgetall(operationKey(operationId));
    delete hash.id;
    delete hash.created_at;
    const failed = (await deps.redis.lrange(failedItemsKey(operationId), 0, -1)).map((s) => {
      const item = JSON.parse(s) as Record<string, unknown>;
      delete item.created_at;
      return item;
    });
    const recorded = (await deps.redis.smembers(recordedItemsKey(operationId))).sort();
    await deps.redis.del(operationKey(operationId), failedItemsKey(operationId), recordedItemsKey(operationId));
    return {
      links: [...links.entries()].sort((a, b) => a[0] - b[0]),
      outcomes: outcomes.map((o) => ({ ...o })),
      redis: { hash, failed, recorded },
      counts,
    };
  };

  /** The per-project fallbacks the next set-based runBatches must make (none unless a scenario says so). */
  const fallbacks: string[] = [];

  const runScenario = async (evaluation: Evaluation, mode: BulkUpdateMode, attributeIds: number[]) => {
    await resetLinks();
    if (evaluation === 'set' && attributeIds.includes(tags[44]!)) fallbacks.push('per-project');
    const { operationId, batchCount } = await newOperation(mode, attributeIds);
    const counts = await runBatches(evaluation, operationId, batchCount);
    // A second attempt of every batch (a retry, a duplicate): nothing applied or counted again.
    const again = await runBatches(evaluation, operationId, batchCount);
    expect(again).toEqual({ successful: counts.successful, failed: counts.failed, appliedNow: 0 });
    return snapshot(operationId, counts);
  };

  it('gives identical links, outcome rows, messages and Redis records in every mode and rule', async () => {
    const t = (from: number, to: number) => tags.slice(from - 1, to);
    const scenarios: [string, BulkUpdateMode, number[]][] = [
      ['ADD into a used single-selection category', 'ADD', [attr.s1b!]],
      ['ADD two of one category in one call', 'ADD', [attr.s1a!, attr.s1c!]],
      ['ADD two tags (19, 20 and 21 already)', 'ADD', t(20, 21)],
      ['ADD up to exactly 20', 'ADD', t(25, 44)],
      ['ADD a deleted and a missing attribute', 'ADD', [attr.deleted!, attr.missing!]],
      ['ADD an attribute of another top-level group', 'ADD', [attr.foreign!]],
      ['ADD what the project already has', 'ADD', [attr.s1a!, tags[0]!]],
      ['ADD that explodes for one project', 'ADD', [tags[44]!]],
      [
        'REMOVE present, absent, deleted, missing, foreign',
        'REMOVE',
        [attr.s1a!, tags[0]!, attr.deleted!, attr.missing!, attr.foreign!],
      ],
      ['REPLACE freeing a category it refills', 'REPLACE', [attr.s1c!, attr.s2b!]],
      ['REPLACE keeping an attribute', 'REPLACE', [attr.s1a!, tags[0]!]],
      ['REPLACE with 20 new over 21 current (41 changes)', 'REPLACE', t(22, 41)],
      ['REPLACE with a foreign attribute', 'REPLACE', [attr.foreign!]],
    ];
    const seen = new Set<string>();
    for (const [name, mode, ids] of scenarios) {
      const perProject = await runScenario('per-project', mode, ids);
      const setBased = await runScenario('set', mode, ids);
      expect([name, setBased]).toEqual([name, perProject]);
      expect(perProject.counts.successful + perProject.counts.failed).toBe(projects.length);
      for (const o of perProject.outcomes as {
        outcome: string;
        error_message: string | null;
        error_details: string[];
      }[]) {
        seen.add(`${mode} ${o.outcome}`);
        if (o.error_message) seen.add(o.error_message.replace(/\d+/g, 'N'));
        for (const d of o.error_details) seen.add(d.replace(/\d+/g, 'N'));
      }
    }
    // The matrix met every rule and mode (a guard against a matrix that stops testing anything).
    expect([...seen].sort()).toEqual(
      [
        'ADD failed',
        'ADD succeeded',
        'REMOVE failed',
        'REMOVE succeeded',
        'REPLACE failed',
        'REPLACE succeeded',
        'You are not authorized to perform this action',
        'Too many attributes',
        'Cannot exceed N attributes per project',
        'Cannot process more than N attributes at once',
        'Invalid attributes',
        'Security attribute not found: N',
        'Cannot add multiple attributes from the same category N',
        'Failed to update security attributes',
        'storage unavailable for project N',
      ].sort(),
    );
  });

  it('fails a project deleted after planning, and one deleted while its batch waits for the lock, the same way', async () => {
    const org1 = await namespaceIdByPath(sql, 'gitlab-org');
    const victims = (await projectsUnder(sql, org1)).slice(-3);
    expect(victims.some((id) => projects.includes(id))).toBe(false);
    const results: Snapshot[] = [];
    for (const evaluation of ['per-project', 'set'] as const) {
      const { operationId, batchCount } = await newOperation('ADD', [attr.s2a!], [...projects, ...victims]);
      // A copy of each victim is deleted for good; the rows are recreated with the same ids for the next path.
      const saved = await sql`select * from projects where id = any(${victims}::bigint[]) order by id`;
      await sql`delete from projects where id = ${victims[0]!}`;
      // The other two are deleted by a transaction that holds their lock while the batches start.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const lockTaken = new Promise<void>((r) => (locked = r));
      const deleting = sql.begin(async (tx) => {
        await tx`select id from projects where id = any(${victims.slice(1)}::bigint[]) for update`;
        locked();
        await held;
        await tx`delete from projects where id = any(${victims.slice(1)}::bigint[])`;
      });
      await lockTaken;
      const running = runBatches(evaluation, operationId, batchCount);
      // Until the batch of the victims waits on their lock (a statement of this database waiting for a row lock).
      for (let waited = 0; waited < 30_000; waited += 50) {
        const [w] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        if (w!.n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      release();
      await deleting;
      const counts = await running;
      const snap = await snapshot(operationId, counts);
      const victimOutcomes = (snap.outcomes as { project_id: number; error_message: string | null }[]).filter((o) =>
        victims.includes(Number(o.project_id)),
      );
      expect(victimOutcomes.map((o) => o.error_message)).toEqual(
        victims.map(() => 'Project not found: it was deleted after the operation started'),
      );
      results.push(snap);
      for (const row of saved) await sql`insert into projects ${sql(row as Record<string, unknown>)}`;
      await resetLinks();
    }
    expect(results[1]).toEqual(results[0]);
  });

  it('serialises two operations over the same projects, whole batches at a time, in each path', async () => {
    for (const evaluation of ['per-project', 'set'] as const) {
      await resetLinks();
      const one = await newOperation('ADD', [attr.s1a!]);
      const two = await newOperation('ADD', [attr.s1c!]);
      await Promise.all([
        runBatches(evaluation, one.operationId, one.batchCount),
        runBatches(evaluation, two.operationId, two.batchCount),
      ]);
      const links = await linksOf(sql, projects);
      const outcomeOf = async (operationId: string) =>
        new Map(
          (
            await sql<{ project_id: number; outcome: string; error_message: string | null }[]>`
              select project_id, outcome, error_message from background_operation_projects
              where operation_id = ${operationId}`
          ).map((o) => [Number(o.project_id), `${o.outcome}:${o.error_message ?? ''}`]),
        );
      const first = await outcomeOf(one.operationId);
      const second = await outcomeOf(two.operationId);
      // What GitLab's rules give for this project when the two run one after the other, in either order.
      const serial = (projectId: number, order: [number, number]) => {
        let current = [...initial.get(projectId)!].sort((x, y) => x - y);
        const out: string[] = [];
        for (const id of order) {
          if (!isOrg1(projectId)) {
            out.push('failed:You are not authorized to perform this action');
            continue;
          }
          const plan = planAttributeChange({
            mode: 'ADD',
            requestedIds: [id],
            current: current.filter((a) => a !== attr.deleted).map(refOf),
            available: [refOf(id)],
            rootNamespaceId: org1Root,
          });
          out.push(plan.ok ? 'succeeded:' : `failed:${plan.message}`);
          if (plan.ok) current = [...current, ...plan.add].sort((a, b) => a - b);
        }
        return { out: order[0] === attr.s1a ? out : [out[1], out[0]], links: current };
      };
      for (const projectId of projects) {
        const actual = { out: [first.get(projectId), second.get(projectId)], links: links.get(projectId) };
        const a = serial(projectId, [attr.s1a!, attr.s1c!]);
        const b = serial(projectId, [attr.s1c!, attr.s1a!]);
        const matches = [a, b].some((e) => JSON.stringify(e) === JSON.stringify(actual));
        expect([evaluation, projectId, matches ? 'a serial order' : { actual, serial: [a, b] }]).toEqual([
          evaluation,
          projectId,
          'a serial order',
        ]);
      }
      for (const op of [one, two]) await snapshot(op.operationId, { successful: 0, failed: 0, appliedNow: 0 });
    }
  });

  // Helpers of the serial model above: the matrix's attributes as the rules see them.
  let org1Root = 0;
  const org1Set = new Set<number>();
  const isOrg1 = (projectId: number) => org1Set.has(projectId);
  const refs = new Map<
    number,
    { id: number; namespaceId: number; categoryId: number; categoryName: string; multipleSelection: boolean }
  >();
  const refOf = (id: number) => refs.get(id)!;
  beforeAll(async () => {
    org1Root = await namespaceIdByPath(sql, 'gitlab-org');
    for (const id of await projectsUnder(sql, org1Root)) org1Set.add(id);
    const rows = await sql<
      { id: number; namespace_id: number; category_id: number; name: string; multiple_selection: boolean }[]
    >`
      select a.id, a.namespace_id, c.id as category_id, c.name, c.multiple_selection
      from security_attributes a join security_categories c on c.id = a.security_category_id`;
    for (const r of rows) {
      refs.set(Number(r.id), {
        id: Number(r.id),
        namespaceId: Number(r.namespace_id),
        categoryId: Number(r.category_id),
        categoryName: r.name,
        multipleSelection: r.multiple_selection,
      });
    }
  });
});

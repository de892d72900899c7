import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { startBulkUpdate } from '../../client/bulk-update/start-bulk-update';
import { SEED_USERS } from '../../db/seed/generate';
import { BulkUpdateErrorType, type BulkUpdateWorkflowResult } from '../../contracts/bulk-update';
import { ExportErrorType } from '../../contracts/offline-export';
import { STACK_CHECK_WORKFLOW, type StackCheckResult } from '../../contracts/stack-check';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { writtenRows } from '../helpers/database';
import { prng } from '../helpers/random';
import { ODD_STRINGS, operationKeys, type Rng } from './support';

// Malformed inputs given straight to the workflow types (as `temporal workflow start` or an SDK client could),
// against a real worker: each run must fail at once with a typed, non-retryable ApplicationFailure. No workflow
// task may fail (a failed workflow task is retried forever, silently), the worker must keep polling, and a good
// workflow must still complete afterwards. Nothing may be written.

const SEED = 0x00f1_0e57;
const CLOSE_TIMEOUT_MS = 30_000;
const ALLOWED_EXPORT_TYPES: string[] = [ExportErrorType.InvalidInput, ExportErrorType.ExportNotFound];
const ALLOWED_BULK_TYPES: string[] = [
  BulkUpdateErrorType.InvalidWorkflowInput,
  BulkUpdateErrorType.OperationNotFound,
  BulkUpdateErrorType.OperationNotRunnable,
];

let tw: TestWorker;
const started: string[] = [];

beforeAll(async () => {
  tw = await startTestWorker('security-wf-fuzz');
});
afterAll(async () => {
  await Promise.allSettled(started.map((id) => tw.client.workflow.getHandle(id).terminate('security test cleanup')));
  await tw?.close();
});

const oddString = (r: Rng) => r.pick(ODD_STRINGS);
function wrong(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => null,
    () => true,
    () => 0,
    () => -7,
    () => 1.25,
    () => Number.MAX_SAFE_INTEGER + 2,
    () => oddString(r),
    () => [],
    () => [1],
    () => ({}),
    () => ({ exportId: 1 }),
    () => 'x'.repeat(r.int(100, 5000)),
    () => JSON.parse('['.repeat(200) + ']'.repeat(200)) as unknown,
  ])();
}

/** Malformed inputs of OfflineExportWorkflow: each must fail with InvalidInput (or ExportNotFound for a well-formed id of no export). */
function exportInputs(r: Rng, n: number): unknown[][] {
  const fixed: unknown[][] = [
    [],
    [null],
    ['{"exportId": 1}'],
    [42],
    [[{ exportId: 1 }]],
    [{}],
    [{ exportId: '1' }],
    [{ exportId: 0 }],
    [{ exportId: -1 }],
    [{ exportId: 1.5 }],
    [{ exportId: 2 ** 53 }],
    [{ exportId: null }],
    [{ exportId: [1] }],
    [{ exportId: 999_999_999_999 }],
    [{ exportId: 1, credentials: { aws_secret_access_key: 'should-not-be-here' } }],
    [{ exportId: 1, __proto__: { exportId: 2 } }],
    [JSON.parse('{"exportId": 1, "__proto__": {"admin": true}}')],
    [{ exportId: 1, constructor: { prototype: { admin: true } } }],
    [{ exportId: 1 }, { extra: true }],
  ];
  const generated = Array.from({ length: n }, () =>
    r.pick<() => unknown[]>([
      () => [wrong(r)],
      () => [{ exportId: wrong(r) }],
      () => [{ exportId: r.int(1, 1000), [oddString(r) || 'x']: wrong(r) }],
      () => [{ [oddString(r) || 'y']: r.int(1, 1000) }],
    ])(),
  );
  return [...fixed, ...generated];
}

function bulkInputs(r: Rng, n: number): unknown[][] {
  const fixed: unknown[][] = [
    [],
    [null],
    ['attribute_update_2_1712345678_a1b2c3d4'],
    [{}],
    [{ operationId: 1 }],
    [{ operationId: 'attribute_update_2_1712345678_A1B2C3D4' }],
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4\n' }],
    [{ operationId: 'attribute_update_0_1712345678_a1b2c3d4' }],
    [{ operationId: `attribute_update_2_1712345678_${'a'.repeat(9)}` }],
    [{ operationId: 'attribute_update_2_1712345679_a1b2c3d4' }], // well formed, never recorded
    [{ operationId: '../../etc/passwd' }],
    [{ operationId: 'x'.repeat(100_000) }],
  ];
  const generated = Array.from({ length: n }, () =>
    r.pick<() => unknown[]>([
      () => [wrong(r)],
      () => [{ operationId: wrong(r) }],
      () => [{ operationId: `attribute_update_${oddString(r)}_1_a1b2c3d4` }],
      () =>
        [{ operationId: `attribute_update_2_1712345678_a1b2c3d4${oddString(r)}` }].filter(
          (i) => i.operationId.length > 39,
        ),
    ])(),
  ).filter((args) => args.length > 0);
  return [...fixed, ...generated];
}

function batchInputs(r: Rng, n: number): unknown[][] {
  const fixed: unknown[][] = [
    [],
    [null],
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4' }],
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4', batchNumber: -1 }],
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4', batchNumber: 1.5 }],
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4', batchNumber: '0' }],
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4', batchNumber: 0 }], // no lastBatchNumber
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4', batchNumber: 2, lastBatchNumber: 1 }],
    [{ operationId: 'attribute_update_2_1712345678_a1b2c3d4', batchNumber: 0, lastBatchNumber: 0 }], // well formed, never recorded
    [{ operationId: 7, batchNumber: 0 }],
  ];
  const generated = Array.from({ length: n }, () => [
    { operationId: r.chance(0.5) ? wrong(r) : 'attribute_update_2_1712345678_a1b2c3d4', batchNumber: wrong(r) },
  ]);
  return [...fixed, ...generated];
}

/** Starts one run and waits for it to close; returns the ApplicationFailure it failed with. */
async function runOnce(
  type: string,
  args: unknown[],
): Promise<{ failure?: ApplicationFailure; other?: string; workflowId: string }> {
  const workflowId = `security-wf-fuzz-${type}-${randomUUID()}`;
  started.push(workflowId);
  const handle = await tw.client.workflow.start(type, {
    taskQueue: tw.taskQueue,
    workflowId,
    args,
    workflowRunTimeout: '2 minutes',
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    handle.result().then(
      (value) => ({ other: `completed: ${JSON.stringify(value)}` }),
      (err: unknown) => {
        // The ApplicationFailure may come from the workflow itself or from a non-retryable activity it ran.
        let cause = err instanceof WorkflowFailedError ? err.cause : undefined;
        if (cause instanceof ActivityFailure) cause = cause.cause;
        if (cause instanceof ApplicationFailure) return { failure: cause };
        return { other: `failed otherwise: ${String(err)} / ${String((err as Error).cause)}` };
      },
    ),
    new Promise<{ other: string }>((resolve) => {
      timer = setTimeout(() => resolve({ other: `still open after ${CLOSE_TIMEOUT_MS} ms` }), CLOSE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  return { ...outcome, workflowId };
}

async function workflowTaskFailures(workflowId: string): Promise<number> {
  const history = await tw.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

async function expectAllFailFast(type: string, inputs: unknown[][], allowedTypes: string[]) {
  const problems: string[] = [];
  let next = 0;
  const failureTypes = new Map<string, number>();
  await tw.run(() =>
    Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < inputs.length) {
          const i = next++;
          const args = inputs[i]!;
          const shown = JSON.stringify(args)?.slice(0, 100);
          const { failure, other, workflowId } = await runOnce(type, args);
          if (other) problems.push(`${type} #${i} ${shown}: ${other}`);
          else if (!failure?.nonRetryable || !allowedTypes.includes(failure.type ?? '')) {
            problems.push(
              `${type} #${i} ${shown}: ${failure?.type} nonRetryable=${failure?.nonRetryable}: ${failure?.message}`,
            );
          } else {
            failureTypes.set(failure.type!, (failureTypes.get(failure.type!) ?? 0) + 1);
            const taskFailures = await workflowTaskFailures(workflowId);
            if (taskFailures > 0) problems.push(`${type} #${i} ${shown}: ${taskFailures} workflow task failure(s)`);
            // A refusal never echoes a secret the caller put in the input.
            if (failure.message.includes('should-not-be-here'))
              problems.push(`${type} #${i}: the failure echoes the input's secret`);
          }
        }
      }),
    ),
  );
  expect(problems).toEqual([]);
  return failureTypes;
}

describe('workflow input fuzzing', () => {
  it('fails every malformed OfflineExportWorkflow input at once with a typed non-retryable failure', async () => {
    const before = await writtenRows(tw.deps.sql);
    const types = await expectAllFailFast('OfflineExportWorkflow', exportInputs(prng(SEED), 40), ALLOWED_EXPORT_TYPES);
    expect(types.get(ExportErrorType.InvalidInput)).toBeGreaterThan(30);
    expect(await writtenRows(tw.deps.sql)).toEqual(before);
  }, 240_000);

  it('fails every malformed BulkUpdateWorkflow input at once with a typed non-retryable failure', async () => {
    const before = await writtenRows(tw.deps.sql);
    const types = await expectAllFailFast('BulkUpdateWorkflow', bulkInputs(prng(SEED + 1), 35), ALLOWED_BULK_TYPES);
    expect(types.get(BulkUpdateErrorType.InvalidWorkflowInput)).toBeGreaterThan(30);
    expect(await writtenRows(tw.deps.sql)).toEqual(before);
    expect(
      await operationKeys(tw.deps.redis, SEED_USERS.owner.id).then((keys) => keys.filter((k) => k.includes('1712345'))),
    ).toEqual([]);
  }, 240_000);

  it('fails every malformed BulkUpdateBatchWorkflow input at once with a typed non-retryable failure', async () => {
    const before = await writtenRows(tw.deps.sql);
    await expectAllFailFast('BulkUpdateBatchWorkflow', batchInputs(prng(SEED + 2), 20), ALLOWED_BULK_TYPES);
    expect(await writtenRows(tw.deps.sql)).toEqual(before);
  }, 240_000);

  it('refuses malformed OfflineExportChunkWorkflow inputs, and chunks of no export, at once', async () => {
    const valid = { exportId: 999_999_999_997, afterSelfId: 0, lastSelfId: 10, maxConcurrentRelations: 2 };
    const inputs: unknown[][] = [
      [null],
      ['chunk'],
      [{ ...valid, exportId: 'x' }],
      [{ ...valid, afterSelfId: 10 }],
      [{ ...valid, afterSelfId: -1 }],
      [{ ...valid, lastSelfId: 1.5 }],
      [{ ...valid, maxConcurrentRelations: 0 }],
      [{ ...valid, credentials: 'should-not-be-here' }],
      [valid],
    ];
    const before = await writtenRows(tw.deps.sql);
    const types = await expectAllFailFast('OfflineExportChunkWorkflow', inputs, ALLOWED_EXPORT_TYPES);
    expect(types.get(ExportErrorType.InvalidInput)).toBe(8);
    expect(types.get(ExportErrorType.ExportNotFound)).toBe(1);
    expect(await writtenRows(tw.deps.sql)).toEqual(before);
  }, 120_000);

  it('refuses a hand-made continue-as-new state at once', async () => {
    const before = await writtenRows(tw.deps.sql);
    const exportTypes = await expectAllFailFast(
      'OfflineExportWorkflow',
      [[{ exportId: 999_999_999_998, resume: 'garbage' }]],
      ALLOWED_EXPORT_TYPES,
    );
    expect(exportTypes.get(ExportErrorType.InvalidInput)).toBe(1);
    const bulkTypes = await expectAllFailFast(
      'BulkUpdateWorkflow',
      [[{ operationId: 'attribute_update_2_1712345678_a1b2c3d4', state: 'garbage' }]],
      ALLOWED_BULK_TYPES,
    );
    expect(bulkTypes.get(BulkUpdateErrorType.InvalidWorkflowInput)).toBe(1);
    expect(await writtenRows(tw.deps.sql)).toEqual(before);
  }, 120_000);

  it('still polls afterwards: a stack check and a real bulk update complete on the same worker', async () => {
    const check = (await tw.run(() =>
      tw.client.workflow.execute(STACK_CHECK_WORKFLOW, {
        taskQueue: tw.taskQueue,
        workflowId: `security-wf-fuzz-check-${randomUUID()}`,
        args: [{ requestedBy: 'security tests' }],
        workflowExecutionTimeout: '2 minutes',
      }),
    )) as StackCheckResult;
    expect(check.taskQueue).toBe(tw.taskQueue);

    const [project] = await tw.deps.sql<{ id: number; root: number }[]>`
      select p.id, n.traversal_ids[1] as root from projects p join namespaces n on n.id = p.namespace_id order by p.id limit 1`;
    const [attribute] = await tw.deps.sql<{ id: number }[]>`
      select id from security_attributes where namespace_id = ${project!.root} and deleted_at is null order by id limit 1`;
    const started = await startBulkUpdate(
      { sql: tw.deps.sql, client: tw.client, taskQueue: tw.taskQueue },
      {
        userId: SEED_USERS.owner.id,
        projectIds: [Number(project!.id)],
        attributeIds: [Number(attribute!.id)],
        mode: 'ADD',
      },
    );
    const result = (await tw.run(() =>
      tw.client.workflow.getHandle(started.workflowId).result(),
    )) as BulkUpdateWorkflowResult;
    expect(result).toMatchObject({ totalItems: 1, failedItems: 0 });
  }, 120_000);
});

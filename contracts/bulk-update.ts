// The bulk update's Temporal contract, shared by workflows, activities, the service and tests. No I/O and no
// runtime dependencies beyond Temporal's pure helpers, so the workflow sandbox can load it.
import { defineQuery } from '@temporalio/workflow';

export const BULK_UPDATE_WORKFLOW = 'BulkUpdateWorkflow';
export const BULK_UPDATE_BATCH_WORKFLOW = 'BulkUpdateBatchWorkflow';

export const BULK_UPDATE_MODES = ['ADD', 'REMOVE', 'REPLACE'] as const;
export type BulkUpdateMode = (typeof BULK_UPDATE_MODES)[number];

export const OPERATION_TYPE_ATTRIBUTE_UPDATE = 'attribute_update';

/** GitLab's limits (GraphQL mutation and UpdateProjectAttributesService). */
export const LIMITS = {
  maxItems: 100,
  maxAttributes: 20,
  maxProjectAttributes: 20,
  maxChangesPerCall: 40,
} as const;

/** Projects read per collection step: a page of ids is written to PostgreSQL, only the cursor comes back. */
export const COLLECT_PAGE_SIZE = 2000;

/**
 * Batches started per run before the scheduler continues as new, unless BULK_UPDATE_BATCHES_PER_RUN says
 * otherwise. Each batch costs about eight history events, so a run stays near 2,500 events, far below the
 * 10,240 warning, whatever the size of the operation.
 */
export const MAX_BATCHES_PER_RUN = 300;

/**
 * Batches one child workflow processes at most (its one activity goes through them in order), unless
 * BULK_UPDATE_BATCHES_PER_CHILD says otherwise: Temporal's per-child cost (child start, workflow tasks, activity
 * dispatch, ~0.7 s) is paid once per range instead of once per batch.
 */
export const MAX_BATCHES_PER_CHILD = 10;

/**
 * Patch id of the switch from one child workflow per batch to one child per contiguous range of batches. No run of
 * the earlier shape remains, so the workflow only deprecates it: histories that hold its marker still replay.
 */
export const BATCH_RANGES_PATCH = 'bulk-update-batch-ranges';

/**
 * Patch id of the change that keeps an operation going when a range of batches fails for good: the range's
 * unprocessed projects become unexpected_error failed items and the other ranges go on (before it, the first
 * failed range stopped the operation and failed the workflow).
 */
export const FAILED_RANGES_PATCH = 'bulk-update-failed-ranges';

/**
 * How many batches the next child takes: the batches left in this run shared among the window (guided
 * self-scheduling), at most maxPerChild and at least one. Ranges shrink as the run nears its end, so the window's
 * last children finish close together and the drain before continue-as-new or completion stays short.
 */
export function nextRangeSize(left: number, window: number, maxPerChild: number): number {
  return Math.max(1, Math.min(maxPerChild, Math.ceil(left / Math.max(1, window)), left));
}

// --- IDs ---

/** attribute_update_<user_id>_<unix_seconds>_<8 hex>, as GitLab's RedisStore generates them. */
export const OPERATION_ID_PATTERN = /^attribute_update_[1-9][0-9]{0,18}_[0-9]{1,12}_[0-9a-f]{8}$/;

export const bulkUpdateWorkflowId = (operationId: string): string => `bulk-update:${operationId}`;
/** A child of a range of batches, named by its first and last batch number. */
export const bulkUpdateBatchRangeWorkflowId = (operationId: string, firstBatch: number, lastBatch: number): string =>
  `bulk-update:${operationId}/batches:${firstBatch}-${lastBatch}`;

// --- Search attributes (registered on the server by scripts/stack/search-attributes.ts) ---

// One definition of the project's search attributes, shared with the export and the stack scripts.
export {
  SA_BULK_OPERATION_ID as BULK_OPERATION_ID,
  SA_GITLAB_USER_ID as GITLAB_USER_ID,
  SA_WORKFLOW_KIND as WORKFLOW_KIND,
} from './search-attributes';
export const WORKFLOW_KIND_BULK_UPDATE = 'bulk-update';
export const WORKFLOW_KIND_BULK_UPDATE_BATCH = 'bulk-update-batch';

// --- Error types (ApplicationFailure.type) ---

export const BulkUpdateErrorType = {
  /** The workflow input is malformed (for example a hand-typed `temporal workflow start`). */
  InvalidWorkflowInput: 'InvalidBulkUpdateWorkflowInput',
  /** No recorded request has this operation id. */
  OperationNotFound: 'BulkOperationNotFound',
  /** The recorded request can no longer run (user gone, already finished by another run). */
  OperationNotRunnable: 'BulkOperationNotRunnable',
  /** Another attempt holds the email lease; retried until it is sent or the lease expires. */
  NotificationInProgress: 'BulkOperationNotificationInProgress',
  /** The mail server refused the message for good (for example an invalid recipient). */
  EmailRejected: 'BulkOperationEmailRejected',
} as const;

// --- Payloads (JSON-plain; ids and cursors, never project lists) ---

export interface BulkUpdateWorkflowInput {
  operationId: string;
  /** Carried across continue-as-new; absent on the first run. */
  state?: BulkUpdateRunState;
}

export type BulkUpdatePhase = 'starting' | 'collecting' | 'planning' | 'processing' | 'notifying' | 'finished';

export interface BulkUpdateRunState {
  phase: BulkUpdatePhase;
  userId: number;
  batchSize: number;
  maxConcurrentBatches: number;
  maxBatchesPerRun: number;
  maxBatchesPerChild: number;
  /** Collection cursor: projects with a greater id are still to be looked at. */
  afterProjectId: number;
  collected: number;
  tracked: boolean;
  totalItems: number;
  batchCount: number;
  /** Batches below this number have all finished (the window never leaves gaps behind a continue-as-new). */
  nextBatch: number;
  batchesDone: number;
  successfulItems: number;
  failedItems: number;
  runs: number;
}

export type NotificationOutcome = 'sent' | 'already_sent' | 'not_needed' | 'skipped' | 'failed';

export interface BulkUpdateWorkflowResult {
  operationId: string;
  tracked: boolean;
  totalItems: number;
  successfulItems: number;
  failedItems: number;
  batchCount: number;
  notification: NotificationOutcome;
  runs: number;
}

/** The workflow's signature, for typed starts from clients that must not import workflow code. */
export type BulkUpdateWorkflowType = (input: BulkUpdateWorkflowInput) => Promise<BulkUpdateWorkflowResult>;

/** The batches batchNumber..lastBatchNumber (inclusive) of an operation, processed in order by one activity. */
export interface BulkUpdateBatchInput {
  operationId: string;
  batchNumber: number;
  lastBatchNumber: number;
}

export interface BulkUpdateBatchResult {
  batchNumber: number;
  lastBatchNumber: number;
  batches: number;
  /** Outcomes of every project of the batch as recorded in PostgreSQL (not only those this attempt applied). */
  projects: number;
  successful: number;
  failed: number;
  /** Projects this execution applied itself; the rest were done by an earlier attempt. */
  appliedNow: number;
}

/** A range of batches whose child workflow failed for good, and why (the failure's own message). */
export interface FailedRangeInput {
  operationId: string;
  batchNumber: number;
  lastBatchNumber: number;
  errorMessage: string;
}

export interface FailedRangeResult {
  batchNumber: number;
  lastBatchNumber: number;
  /** Outcomes of every project of the range as recorded in PostgreSQL, the ones failed now included. */
  projects: number;
  successful: number;
  failed: number;
  /** Projects that had no outcome and were failed as unexpected errors by this call. */
  failedNow: number;
}

export interface BulkUpdateProgress {
  operationId: string;
  phase: BulkUpdatePhase;
  tracked: boolean;
  collected: number;
  totalItems: number;
  successfulItems: number;
  failedItems: number;
  batchCount: number;
  batchesDone: number;
  batchesRunning: number;
  runs: number;
}

export const bulkUpdateProgressQuery = defineQuery<BulkUpdateProgress>('bulkUpdateProgress');

// --- Pure validation (usable inside the workflow sandbox) ---

/** Returns a message a person can act on, or undefined when the input is usable. */
export function checkBulkUpdateWorkflowInput(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'BulkUpdateWorkflow expects one object argument such as {"operationId": "attribute_update_2_1712345678_a1b2c3d4"}';
  }
  const { operationId, state } = input as { operationId?: unknown; state?: unknown };
  if (typeof operationId !== 'string' || !OPERATION_ID_PATTERN.test(operationId)) {
    return (
      `operationId must be an id returned by startBulkUpdate, like attribute_update_2_1712345678_a1b2c3d4 ` +
      `(got ${JSON.stringify(operationId)?.slice(0, 80) ?? 'nothing'})`
    );
  }
  if (state !== undefined) return checkRunState(state);
  return undefined;
}

const PHASES: readonly BulkUpdatePhase[] = [
  'starting',
  'collecting',
  'planning',
  'processing',
  'notifying',
  'finished',
];
const COUNTERS = [
  'userId',
  'batchSize',
  'maxConcurrentBatches',
  'maxBatchesPerRun',
  'maxBatchesPerChild',
  'afterProjectId',
  'collected',
  'totalItems',
  'batchCount',
  'nextBatch',
  'batchesDone',
  'successfulItems',
  'failedItems',
  'runs',
] as const;

/**
 * `state` is only ever written by the workflow itself when it continues as new; anyone passing one by hand gets
 * told so rather than a run that fails its workflow task forever.
 */
function checkRunState(state: unknown): string | undefined {
  const refuse = (why: string) =>
    `state is written by BulkUpdateWorkflow when it continues as new; leave it out when starting one (${why})`;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return refuse('not an object');
  const s = state as Record<string, unknown>;
  if (!PHASES.includes(s.phase as BulkUpdatePhase)) return refuse('unknown phase');
  for (const key of COUNTERS) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return refuse(`${key} is not a whole number`);
  }
  const settings = ['userId', 'batchSize', 'maxConcurrentBatches', 'maxBatchesPerRun', 'maxBatchesPerChild'] as const;
  if (s.phase !== 'starting' && settings.some((key) => (s[key] as number) < 1)) {
    return refuse(`${settings.join(', ')} must be positive`);
  }
  if (typeof s.tracked !== 'boolean') return refuse('tracked is not true or false');
  return undefined;
}

export function checkBulkUpdateBatchInput(input: unknown): string | undefined {
  const base = checkBulkUpdateWorkflowInput(input);
  if (base) return base.replace('BulkUpdateWorkflow', 'BulkUpdateBatchWorkflow');
  const { batchNumber } = input as { batchNumber?: unknown };
  if (typeof batchNumber !== 'number' || !Number.isInteger(batchNumber) || batchNumber < 0) {
    return 'batchNumber must be a whole number of at least 0';
  }
  const { lastBatchNumber } = input as { lastBatchNumber?: unknown };
  if (typeof lastBatchNumber !== 'number' || !Number.isSafeInteger(lastBatchNumber) || lastBatchNumber < batchNumber) {
    return 'lastBatchNumber must be a whole number of at least batchNumber';
  }
  return undefined;
}

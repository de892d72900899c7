// Shared by the offline-export workflows, activities, worker and clients: no I/O. defineQuery and the search
// attribute keys are plain definitions, safe both in the workflow sandbox and in clients.
import { defineQuery } from '@temporalio/workflow';

export const OFFLINE_EXPORT_WORKFLOW = 'OfflineExportWorkflow';
export const OFFLINE_EXPORT_CHUNK_WORKFLOW = 'OfflineExportChunkWorkflow';
export const OFFLINE_EXPORT_CREDENTIALS_PURGE_WORKFLOW = 'OfflineExportCredentialsPurgeWorkflow';

/**
 * Patch id of the switch to chunk children (one child per chunk of portables instead of one per portable). No run of
 * the earlier shape remains, so the workflow only deprecates it: histories that hold its marker still replay.
 */
export const PORTABLE_CHUNKS_PATCH = 'offline-export-portable-chunks';

/**
 * Patch id of GitLab's failure path: an export whose workflow fails for any reason but a cancel, or passes its
 * deadline, ends failed (rows and export), with one "Offline export failed" email and its credentials purged.
 * Runs started before it end as they did (the export left started).
 */
export const EXPORT_FAILURE_PATH_PATCH = 'offline-export-failure-path';

/**
 * Patch id of the credential purge as a workflow of its own: a finished export starts
 * OfflineExportCredentialsPurgeWorkflow (an abandoned child that waits EXPORT_CREDENTIALS_PURGE_DELAY_MS, then
 * purges) and completes at once, instead of sleeping the delay itself. Runs started before it still sleep and purge.
 */
export const CREDENTIALS_PURGE_WORKFLOW_PATCH = 'offline-export-credentials-purge-workflow';

/**
 * Patch id of the chunk child's portable index: it reads its portables (type, id, full path, relation counts),
 * upserts their paths into the PortableFullPaths search attribute and answers offlineExportChunkStatusQuery with
 * them. Chunks started before it only export.
 */
export const CHUNK_PORTABLE_INDEX_PATCH = 'offline-export-chunk-portable-index';

/** The deadline of runs whose limits do not carry one (a chain started before EXPORT_DEADLINE_MS existed). */
export const DEFAULT_EXPORT_DEADLINE_MS = 7 * 24 * 60 * 60 * 1000;

/** Workflow input: the export id only. Credentials and entity lists stay in PostgreSQL. */
export interface OfflineExportInput {
  exportId: number;
  /** Set only by continue-as-new: where the previous run stopped. Never set by a caller. */
  resume?: OfflineExportResume;
}

/** The limits the workflow needs; read from config by the first activity (workflows cannot read config). */
export interface ExportLimits {
  /** Relations a chunk exports at once. */
  maxConcurrentRelations: number;
  credentialsPurgeDelayMs: number;
  /** Portables per chunk child. */
  portablesPerChunk: number;
  /** Chunk children running at once. */
  maxConcurrentChunks: number;
  /** Chunks handed to children in one run before continue-as-new. */
  chunksPerRun: number;
  /** How long the export may take from its start to its completion (absent in runs started before the setting). */
  deadlineMs?: number;
}

/** Small, JSON-plain state carried across continue-as-new: a cursor and counters, never lists. */
export interface OfflineExportResume {
  afterSelfId: number;
  limits: ExportLimits;
  userId: number;
  exportPrefix: string;
  totals: ProgressTotals;
  run: number;
  /** Portables handed to chunk children so far. */
  portablesHandedOut: number;
  /** The size of the last round's chunks, once the workflow reaches it. */
  finalChunkSize?: number;
  /** When the export must be complete (epoch ms), fixed by its first run; absent in runs before the failure path. */
  deadlineAt?: number;
}

export interface ProgressTotals {
  portablesTotal: number;
  portablesFinished: number;
  portablesFailed: number;
  relationsFinished: number;
  relationsFailed: number;
  objectsWritten: number;
  bytesWritten: number;
  recordsWritten: number;
}

export const emptyTotals = (): ProgressTotals => ({
  portablesTotal: 0,
  portablesFinished: 0,
  portablesFailed: 0,
  relationsFinished: 0,
  relationsFailed: 0,
  objectsWritten: 0,
  bytesWritten: 0,
  recordsWritten: 0,
});

export interface OfflineExportResult {
  exportId: number;
  status: 'finished' | 'failed';
  hasFailures: boolean;
  totals: ProgressTotals;
}

/** The workflow's signature, for typed starts from clients that must not import workflow code. */
export type OfflineExportWorkflowType = (input: OfflineExportInput) => Promise<OfflineExportResult>;

export type PortableType = 'group' | 'project';

/**
 * Relations per portable (the keys of tree.group and tree.project in GitLab's import_export.yml, plus 'self', the
 * portable's own record); the first ones as built first, the rest in GitLab's file order. Which of GitLab's are not
 * exported, and why: docs/offline-export.md#relations.
 */
export const PORTABLE_RELATIONS: Record<PortableType, readonly string[]> = {
  group: [
    'self',
    'labels',
    'milestones',
    'badges',
    'boards',
    'members',
    'namespace_settings',
    'user_contributions',
    'uploads',
  ],
  project: [
    'self',
    'labels',
    'milestones',
    'issues',
    'merge_requests',
    'releases',
    'protected_branches',
    'project_feature',
    'snippets',
    'project_members',
    'external_pull_requests',
    'ci_pipelines',
    'auto_devops',
    'pipeline_schedules',
    'container_expiration_policy',
    'protected_tags',
    'custom_attributes',
    'project_badges',
    'ci_cd_settings',
    'error_tracking_setting',
    'boards',
    'service_desk_setting',
    'user_contributions',
    // File relations (GitLab's FileTransfer::ProjectConfig, and `wiki` as planned for offline transfer).
    'uploads',
    'lfs_objects',
    'repository',
    'wiki',
    'design',
  ],
};

// --- Workflow ids ---

/** "offline-export:42" — findable in the Web UI by the export's id. */
export const offlineExportWorkflowId = (exportId: number): string => `offline-export:${exportId}`;
// --- Chunk child ---

/** A run of consecutive 'self' rows of an export, (afterSelfId, lastSelfId]: what one chunk child exports. */
export interface PortableChunk {
  afterSelfId: number;
  firstSelfId: number;
  lastSelfId: number;
  portables: number;
  firstPath: string;
  lastPath: string;
}

export interface ChunkExportInput {
  exportId: number;
  afterSelfId: number;
  lastSelfId: number;
  maxConcurrentRelations: number;
}

/** What a chunk exported, read back from its rows (exact whatever the number of attempts). */
export type ChunkExportResult = Omit<ProgressTotals, 'portablesTotal'>;

/** "offline-export:42/portables:101-150" — one child per chunk, named by its 'self' rows. */
export const chunkWorkflowId = (exportId: number, firstSelfId: number, lastSelfId: number): string =>
  `${offlineExportWorkflowId(exportId)}/portables:${firstSelfId}-${lastSelfId}`;

// --- Credential purge ---

/** What the purge workflow needs: the export, and how long to wait (workflows cannot read config). */
export interface CredentialsPurgeInput {
  exportId: number;
  delayMs: number;
}

export interface CredentialsPurgeResult {
  exportId: number;
  /** False when they were purged already (by an earlier attempt, a cancel or a failure). */
  purged: boolean;
}

/**
 * "offline-export-purge:42" — one per export, deterministic so a repeated start finds the first (REJECT_DUPLICATE).
 * Not under "offline-export:42/", which names the export's own work: the purge outlives the export's run.
 */
export const credentialsPurgeWorkflowId = (exportId: number): string => `offline-export-purge:${exportId}`;

export function validatePurgeInput(input: unknown): string | undefined {
  if (!isRecord(input)) return 'OfflineExportCredentialsPurgeWorkflow takes {"exportId": <id>, "delayMs": <ms>}';
  if (!isCount(input.exportId) || input.exportId < 1) return 'exportId must be a positive whole number';
  if (!isCount(input.delayMs)) return 'delayMs must be a whole number of milliseconds (0 or more)';
  const unknown = Object.keys(input).filter((k) => k !== 'exportId' && k !== 'delayMs');
  if (unknown.length > 0)
    return `OfflineExportCredentialsPurgeWorkflow does not take ${unknown.map((k) => JSON.stringify(k)).join(', ')}`;
  return undefined;
}

// --- Chunk status ---

/** One portable of a chunk as read from its relation rows (by the chunk child, at its start and at its end). */
export interface ChunkPortable {
  portableType: PortableType;
  portableId: number;
  fullPath: string;
  relations: { total: number; finished: number; failed: number };
}

export interface ChunkPortableStatus extends ChunkPortable {
  /**
   * pending: not begun; exporting: the chunk's activity is on it; finished: done with at least one relation
   * finished (GitLab counts it so); failed: done with none finished (refused, or every relation failed).
   */
  status: 'pending' | 'exporting' | 'finished' | 'failed';
}

/** The chunk child's query answer: each of its portables, as of the last read of its rows. */
export interface OfflineExportChunkStatus {
  exportId: number;
  afterSelfId: number;
  lastSelfId: number;
  phase: 'loading' | 'exporting' | 'done' | 'failed' | 'cancelled';
  /** When the portables were last read (ISO time, workflow clock); absent before the first read. */
  readAt?: string;
  portables: ChunkPortableStatus[];
  /** How many of the paths are in PortableFullPaths (all, unless they pass Temporal's 2 KB value limit). */
  pathsIndexed: number;
}

/** A portable's status from its rows: running = the chunk's activity is running now. */
export function chunkPortableStatus(p: ChunkPortable, running: boolean): ChunkPortableStatus['status'] {
  const done = p.relations.total > 0 && p.relations.finished + p.relations.failed === p.relations.total;
  if (done) return p.relations.finished > 0 ? 'finished' : 'failed';
  return running ? 'exporting' : 'pending';
}

export const offlineExportChunkStatusQuery = defineQuery<OfflineExportChunkStatus>('offlineExportChunkStatus');

// --- Queries ---

export interface OfflineExportProgress {
  exportId: number;
  phase:
    'loading' | 'discovering' | 'exporting' | 'completing' | 'waiting-to-purge' | 'done' | 'cancelling' | 'failing';
  run: number;
  portables: { total: number; pending: number; running: number; finished: number; failed: number };
  relations: { finished: number; failed: number };
  objectsWritten: number;
  bytesWritten: number;
  recordsWritten: number;
  /** Workflow ids of the children running now (at most the portable window). */
  running: string[];
  /** Set once the export completed and started its credential purge (runs since CREDENTIALS_PURGE_WORKFLOW_PATCH). */
  credentialsPurge?: { workflowId: string; delayMs: number };
}

export const offlineExportProgressQuery = defineQuery<OfflineExportProgress>('offlineExportProgress');

// --- Search attributes (registered on the dev server by the stack scripts) ---

export {
  SA_OFFLINE_EXPORT_ID,
  SA_GITLAB_USER_ID,
  SA_WORKFLOW_KIND,
  SA_PORTABLE_FULL_PATH,
  SA_EXPORT_STATUS,
  SA_PORTABLE_FULL_PATHS,
  keywordListWithin,
} from './search-attributes';

export const WORKFLOW_KIND_EXPORT = 'offline-export';
export const WORKFLOW_KIND_CHUNK = 'offline-export-chunk';
export const WORKFLOW_KIND_CREDENTIALS_PURGE = 'offline-export-credentials-purge';

// --- Errors (ApplicationFailure types; class names are part of the API) ---

export const ExportErrorType = {
  InvalidInput: 'InvalidInput',
  ExportNotFound: 'ExportNotFound',
  CredentialsUnavailable: 'CredentialsUnavailable',
  /** The export passed EXPORT_DEADLINE_MS and was failed. */
  DeadlineExceeded: 'ExportDeadlineExceeded',
  /** A file relation's source is unusable (a path leaving storage, a broken repository): that relation fails. */
  UnsafeSourceData: 'UnsafeSourceData',
} as const;

export const CANCELLED_ERROR = 'Export cancelled: the workflow was cancelled before every relation was exported';
export const ALL_FAILED_ERROR = 'Export failed: every relation export failed';
export const deadlineError = (deadlineMs: number): string =>
  `Export failed: it did not complete within ${duration(deadlineMs)} (EXPORT_DEADLINE_MS)`;

/** A delay as people read it: "24 hours", "5 seconds" (in errors, summaries and details). */
export const duration = (ms: number): string => {
  const [n, unit] =
    ms >= 3_600_000 ? [ms / 3_600_000, 'hours'] : ms >= 60_000 ? [ms / 60_000, 'minutes'] : [ms / 1000, 'seconds'];
  return `${Math.round(n * 10) / 10} ${unit}`;
};
export const failedError = (message: string): string => `Export failed: ${message}`;

/** Pure check of a workflow input, so a bad start from the CLI fails at once with a clear message. */
export function validateExportInput(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'OfflineExportWorkflow takes one object argument: {"exportId": <id of import_offline_exports>}';
  }
  const { exportId } = input as { exportId?: unknown };
  if (typeof exportId !== 'number' || !Number.isSafeInteger(exportId) || exportId < 1) {
    return `exportId must be a positive whole number (got ${JSON.stringify(exportId) ?? 'nothing'})`;
  }
  // resume is only ever written by the workflow's own continue-as-new; a hand-made one must still be well formed.
  const { resume } = input as { resume?: unknown };
  if (resume !== undefined && !isResume(resume)) {
    return 'resume is set by the workflow itself when it continues as new; start an export with {"exportId": <id>} only';
  }
  // Anything else a caller passes (credentials, entity lists, ...) would sit in the history: refuse it.
  const unknown = Object.keys(input).filter((key) => key !== 'exportId' && key !== 'resume');
  if (unknown.length > 0) {
    return `OfflineExportWorkflow takes only {"exportId": <id>}; remove ${unknown.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  return undefined;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isResume(value: unknown): value is OfflineExportResume {
  if (!isRecord(value) || !isRecord(value.limits) || !isRecord(value.totals)) return false;
  const { limits, totals } = value;
  return (
    (value.finalChunkSize === undefined || isCount(value.finalChunkSize)) &&
    (value.deadlineAt === undefined || isCount(value.deadlineAt)) &&
    (limits.deadlineMs === undefined || (isCount(limits.deadlineMs) && limits.deadlineMs > 0)) &&
    [value.afterSelfId, value.userId, value.run, value.portablesHandedOut].every(isCount) &&
    typeof value.exportPrefix === 'string' &&
    isCount(limits.credentialsPurgeDelayMs) &&
    ['maxConcurrentRelations', 'portablesPerChunk', 'maxConcurrentChunks', 'chunksPerRun'].every(
      (k) => isCount(limits[k]) && limits[k] > 0,
    ) &&
    Object.keys(emptyTotals()).every((k) => isCount(totals[k]))
  );
}

/** Pure check of a chunk child's input (normally written by the parent; also reachable from the CLI). */
export function validateChunkInput(input: unknown): string | undefined {
  if (!isRecord(input)) return 'OfflineExportChunkWorkflow takes one object argument, as its parent starts it';
  for (const key of ['exportId', 'lastSelfId', 'maxConcurrentRelations'] as const) {
    if (!isCount(input[key]) || input[key] < 1) return `${key} must be a positive whole number`;
  }
  if (!isCount(input.afterSelfId)) return 'afterSelfId must be a whole number (0 or more)';
  if (input.afterSelfId >= (input.lastSelfId as number)) return 'afterSelfId must be below lastSelfId';
  const unknown = Object.keys(input).filter(
    (k) => !['exportId', 'afterSelfId', 'lastSelfId', 'maxConcurrentRelations'].includes(k),
  );
  if (unknown.length > 0)
    return `OfflineExportChunkWorkflow does not take ${unknown.map((k) => JSON.stringify(k)).join(', ')}`;
  return undefined;
}

/** Errors stored in the database are at most 255 characters (GitLab's column limit). */
export const truncateError = (message: string): string =>
  message.length > 255 ? `${message.slice(0, 252)}...` : message;

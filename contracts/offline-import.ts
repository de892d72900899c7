// Shared by the offline-import workflows, activities, worker and clients: no I/O. GitLab's bulk import, read from
// its source, is the model (docs/offline-import-design.md part A); where ours differs, docs/offline-import.md says so.
import { defineQuery } from '@temporalio/workflow';
import type { PortableType } from './offline-export';

export const OFFLINE_IMPORT_WORKFLOW = 'OfflineImportWorkflow';
export const OFFLINE_IMPORT_CHUNK_WORKFLOW = 'OfflineImportChunkWorkflow';
export const WORKFLOW_KIND_IMPORT = 'offline-import';
export const WORKFLOW_KIND_IMPORT_CHUNK = 'offline-import-chunk';

/** "offline-import:42": findable in the Web UI by the import's id. */
export const offlineImportWorkflowId = (importId: number): string => `offline-import:${importId}`;
export const importChunkWorkflowId = (importId: number, chunkId: number): string =>
  `offline-import:${importId}/chunk:${chunkId}`;

// --- Statuses (GitLab's state machines; numeric values as its columns store them) ---

/** BulkImport and BulkImports::Entity. */
export const ImportStatus = { CREATED: 0, STARTED: 1, FINISHED: 2, TIMEOUT: 3, FAILED: -1, CANCELED: -2 } as const;
/** BulkImports::Tracker. */
export const TrackerStatus = {
  CREATED: 0,
  STARTED: 1,
  FINISHED: 2,
  ENQUEUED: 3,
  TIMEOUT: 4,
  FAILED: -1,
  SKIPPED: -2,
  CANCELED: -3,
} as const;
/** BulkImports::BatchTracker. */
export const BatchStatus = {
  CREATED: 0,
  STARTED: 1,
  FINISHED: 2,
  TIMEOUT: 3,
  FAILED: -1,
  SKIPPED: -2,
  CANCELED: -3,
} as const;

/** The names GitLab's API prints (`status_name`). */
export const IMPORT_STATUS_NAMES: Record<number, string> = {
  0: 'created',
  1: 'started',
  2: 'finished',
  3: 'timeout',
  [-1]: 'failed',
  [-2]: 'canceled',
};
export const TRACKER_STATUS_NAMES: Record<number, string> = {
  0: 'created',
  1: 'started',
  2: 'finished',
  3: 'enqueued',
  4: 'timeout',
  [-1]: 'failed',
  [-2]: 'skipped',
  [-3]: 'canceled',
};

/** bulk_import_entities.source_type: GitLab's enum names and values. */
export const EntitySourceType = { group_entity: 0, project_entity: 1 } as const;
export type EntitySourceTypeName = keyof typeof EntitySourceType;
export const portableOfSourceType = (t: number): PortableType => (t === 0 ? 'group' : 'project');

// --- Pipelines: which relation runs in which stage (GitLab's offline stage tables, docs/offline-import-design.md
// A.3 and B.8). A stage starts when every tracker of the stage before it has ended. ---

export interface ImportPipeline {
  /** The relation's name in the bucket ('self', 'issues', 'repository'); pseudo relations have no object. */
  relation: string;
  /** GitLab's pipeline class name: bulk_import_trackers.relation. */
  pipeline: string;
  stage: number;
  /** abort_on_failure!: a failure fails the entity and skips its later trackers. */
  abortOnFailure?: boolean;
  /** tar: a file relation (<relation>.tar.gz); none: no object (entities from the mapping, the finisher). */
  object?: 'ndjson' | 'tar' | 'none';
}

const P = (stage: number, relation: string, pipeline: string, extra: Partial<ImportPipeline> = {}): ImportPipeline => ({
  stage,
  relation,
  pipeline,
  object: 'ndjson',
  ...extra,
});

export const IMPORT_PIPELINES: Record<PortableType, readonly ImportPipeline[]> = {
  group: [
    P(0, 'self', 'Import::Offline::Groups::Pipelines::GroupPipeline', { abortOnFailure: true }),
    P(1, 'members', 'Import::Offline::Common::Pipelines::MembersPipeline'),
    P(1, 'namespace_settings', 'BulkImports::Groups::Pipelines::NamespaceSettingsPipeline'),
    P(1, 'labels', 'BulkImports::Common::Pipelines::LabelsPipeline'),
    P(1, 'milestones', 'BulkImports::Common::Pipelines::MilestonesPipeline'),
    P(1, 'badges', 'Import::Offline::Common::Pipelines::BadgesPipeline'),
    P(2, 'boards', 'BulkImports::Common::Pipelines::BoardsPipeline'),
    P(2, 'uploads', 'BulkImports::Common::Pipelines::UploadsPipeline', { object: 'tar' }),
    P(3, 'user_contributions', 'Import::Offline::Common::Pipelines::UserContributionsPipeline'),
    P(3, 'project_entities', 'Import::Offline::Groups::Pipelines::ProjectEntitiesPipeline', { object: 'none' }),
    // GitLab: "must be imported in later stage to Project Entities to avoid `full_path` naming conflicts".
    P(4, 'subgroups', 'Import::Offline::Groups::Pipelines::SubgroupEntitiesPipeline', { object: 'none' }),
    P(5, 'finisher', 'BulkImports::Common::Pipelines::EntityFinisher', { object: 'none' }),
  ],
  project: [
    P(0, 'self', 'Import::Offline::Projects::Pipelines::ProjectPipeline', { abortOnFailure: true }),
    P(1, 'repository', 'BulkImports::Projects::Pipelines::RepositoryBundlePipeline', {
      abortOnFailure: true,
      object: 'tar',
    }),
    P(1, 'project_members', 'Import::Offline::Projects::Pipelines::MembersPipeline'),
    P(2, 'labels', 'BulkImports::Common::Pipelines::LabelsPipeline'),
    P(2, 'milestones', 'BulkImports::Common::Pipelines::MilestonesPipeline'),
    P(2, 'project_badges', 'Import::Offline::Projects::Pipelines::BadgesPipeline'),
    P(3, 'issues', 'BulkImports::Projects::Pipelines::IssuesPipeline'),
    P(4, 'boards', 'BulkImports::Common::Pipelines::BoardsPipeline'),
    P(4, 'merge_requests', 'BulkImports::Projects::Pipelines::MergeRequestsPipeline'),
    P(4, 'external_pull_requests', 'BulkImports::Projects::Pipelines::ExternalPullRequestsPipeline'),
    P(4, 'protected_branches', 'BulkImports::Projects::Pipelines::ProtectedBranchesPipeline'),
    P(4, 'project_feature', 'BulkImports::Projects::Pipelines::ProjectFeaturePipeline'),
    P(4, 'container_expiration_policy', 'BulkImports::Projects::Pipelines::ContainerExpirationPolicyPipeline'),
    P(4, 'service_desk_setting', 'BulkImports::Projects::Pipelines::ServiceDeskSettingPipeline'),
    P(4, 'releases', 'BulkImports::Projects::Pipelines::ReleasesPipeline'),
    // Ours (no offline pipeline in GitLab yet): named as GitLab names its project pipelines.
    P(4, 'snippets', 'BulkImports::Projects::Pipelines::SnippetsPipeline'),
    P(4, 'protected_tags', 'BulkImports::Projects::Pipelines::ProtectedTagsPipeline'),
    P(4, 'custom_attributes', 'BulkImports::Projects::Pipelines::CustomAttributesPipeline'),
    P(4, 'ci_cd_settings', 'BulkImports::Projects::Pipelines::CiCdSettingsPipeline'),
    P(4, 'error_tracking_setting', 'BulkImports::Projects::Pipelines::ErrorTrackingSettingPipeline'),
    P(5, 'ci_pipelines', 'BulkImports::Projects::Pipelines::CiPipelinesPipeline'),
    P(5, 'auto_devops', 'BulkImports::Projects::Pipelines::AutoDevopsPipeline'),
    P(5, 'pipeline_schedules', 'BulkImports::Projects::Pipelines::PipelineSchedulesPipeline'),
    P(5, 'uploads', 'BulkImports::Common::Pipelines::UploadsPipeline', { object: 'tar' }),
    P(5, 'lfs_objects', 'BulkImports::Common::Pipelines::LfsObjectsPipeline', { object: 'tar' }),
    P(5, 'design', 'BulkImports::Projects::Pipelines::DesignBundlePipeline', { object: 'tar' }),
    P(5, 'wiki', 'BulkImports::Common::Pipelines::WikiPipeline', { object: 'tar' }),
    // GitLab: "must run after all relation pipelines".
    P(6, 'user_contributions', 'Import::Offline::Common::Pipelines::UserContributionsPipeline'),
    P(7, 'finisher', 'BulkImports::Common::Pipelines::EntityFinisher', { object: 'none' }),
  ],
};

export const importPipeline = (portable: PortableType, relation: string): ImportPipeline | undefined =>
  IMPORT_PIPELINES[portable].find((p) => p.relation === relation);

/** import_source_users.import_type of what this importer creates (GitLab: Import::SOURCE_OFFLINE_TRANSFER). */
export const IMPORT_TYPE = 'offline_transfer';

// --- GitLab's messages, word for word (docs/offline-import-design.md A.1, B.7) ---

export const ImportMessages = {
  metadataParse: 'Failed to parse metadata',
  metadataHostname: 'Missing source hostname in metadata',
  metadataVersion: 'Invalid source version',
  unsupportedVersion: (min: string) => `Unsupported GitLab version. The minimum supported version is '${min}'.`,
  noMapping: (path: string) => `Metadata contains no mapping for entity path '${path}'`,
  noTopLevelGroups: 'Export contains no top-level groups to import',
  noValidTopLevel: 'No top-level groups have a valid destination',
  filesNotFound: (relation: string) => `Export files not found for relation: ${relation}`,
  batchNotFound: (relation: string, batch: number) =>
    `Export relation batch file not found for relation: ${relation}, batch: ${batch}`,
  invalidContentType: 'Invalid content type',
  decompression: 'File decompression error',
  incorrectJson: 'Incorrect JSON format',
  invalidFile: 'Invalid file',
  lfsJson: 'LFS Objects JSON read failed',
  pathTaken: (path: string) => `Import failed. '${path}' already exists. Change the destination and try again.`,
  destinationInvalid: (destination: string) =>
    `Import failed. Destination '${destination}' is invalid, or you don't have permission.`,
  slugInvalid:
    "Import failed. Destination URL can only include non-accented letters, digits, '_', '-' and '.'. It must not start with '-', '_', or '.', nor end with '-', '_', '.', '.git', or '.atom'.",
  destinationsInvalid: 'One or more destination paths is invalid.',
  notCompleted: 'Import did not complete',
} as const;

/** GitLab's MIN_SUPPORTED_VERSION of Import::Offline::Imports::MetadataFileReader. */
export const MIN_SUPPORTED_SOURCE_VERSION = '19.0';

// --- Workflow inputs, limits and results: ids and counters only ---

export interface ImportLimits {
  /** Entities a chunk child imports. */
  entitiesPerChunk: number;
  /** Chunk children running at once. */
  maxConcurrentChunks: number;
  /** Chunks per run before continue-as-new. */
  chunksPerRun: number;
  credentialsPurgeDelayMs: number;
  deadlineMs: number;
}

export interface OfflineImportInput {
  importId: number;
  /** Set only by continue-as-new. */
  resume?: OfflineImportResume;
}

export interface OfflineImportResume {
  limits: ImportLimits;
  userId: number;
  run: number;
  chunksStarted: number;
  deadlineAt: number;
}

export interface OfflineImportResult {
  importId: number;
  status: 'finished' | 'failed' | 'canceled' | 'timeout';
  hasFailures: boolean;
  entities: EntityCounts;
}

export interface EntityCounts {
  created: number;
  started: number;
  finished: number;
  failed: number;
  canceled: number;
  timeout: number;
}

export const emptyEntityCounts = (): EntityCounts => ({
  created: 0,
  started: 0,
  finished: 0,
  failed: 0,
  canceled: 0,
  timeout: 0,
});

export interface ImportChunkInput {
  importId: number;
  chunkId: number;
}

export interface ImportChunkResult {
  chunkId: number;
  entitiesFinished: number;
  entitiesFailed: number;
  records: number;
  bytes: number;
}

export type ImportPhase =
  'loading' | 'preparing' | 'importing' | 'completing' | 'waiting-to-purge' | 'done' | 'cancelling' | 'failing';

export interface OfflineImportProgress {
  importId: number;
  phase: ImportPhase;
  run: number;
  entities: EntityCounts;
  chunksRunning: { chunkId: number; firstPath: string; lastPath: string; count: number }[];
  chunksDone: number;
  records: number;
  bytesRead: number;
}

export const offlineImportProgressQuery = defineQuery<OfflineImportProgress>('offlineImportProgress');

export const ImportErrorType = {
  INVALID_INPUT: 'InvalidImportInput',
  NOT_FOUND: 'ImportNotFound',
  METADATA: 'ImportMetadataError',
  BAD_OBJECT: 'ImportBadObject',
  DEADLINE: 'ImportDeadlineExceeded',
} as const;

const positiveId = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Why an input cannot start the workflow (a caller's mistake: non-retryable), or undefined. */
export function validateImportInput(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return 'input must be an object: {"importId": <positive integer>}';
  const { importId, resume, ...rest } = input as Record<string, unknown>;
  if (!positiveId(importId)) return 'importId must be a positive integer';
  const extra = Object.keys(rest);
  if (extra.length > 0) return `unknown field(s): ${extra.join(', ')} (the input holds the import id only)`;
  if (resume !== undefined && (typeof resume !== 'object' || resume === null))
    return 'resume is set by continue-as-new only';
  return undefined;
}

export function validateImportChunkInput(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return 'input must be an object: {"importId": <id>, "chunkId": <id>}';
  const { importId, chunkId, ...rest } = input as Record<string, unknown>;
  if (!positiveId(importId)) return 'importId must be a positive integer';
  if (!positiveId(chunkId)) return 'chunkId must be a positive integer';
  if (Object.keys(rest).length > 0) return `unknown field(s): ${Object.keys(rest).join(', ')}`;
  return undefined;
}

/** Messages stored in 255-character columns (GitLab truncates exception_message the same way). */
export const truncate255 = (message: string): string =>
  message.length <= 255 ? message : `${message.slice(0, 252)}...`;

// Status codes of the tables GitLab's offline export keeps (the same integers GitLab stores), and the storage
// provider enum. Only db/, activities/ and clients read them; workflows see names, never codes.

/** import_offline_exports.status */
export const ExportStatus = { CREATED: 0, STARTED: 1, FINISHED: 2, FAILED: -1 } as const;
export type ExportStatusValue = (typeof ExportStatus)[keyof typeof ExportStatus];
export const EXPORT_STATUS_NAMES: Record<ExportStatusValue, 'created' | 'started' | 'finished' | 'failed'> = {
  0: 'created',
  1: 'started',
  2: 'finished',
  [-1]: 'failed',
};

/** bulk_import_exports.status */
export const RelationStatus = { PENDING: -2, STARTED: 0, FINISHED: 1, FAILED: -1 } as const;

/** bulk_import_export_batches.status */
export const BatchStatus = { CREATED: 0, STARTED: 2, FINISHED: 1, FAILED: -1 } as const;

/** import_offline_configurations.provider */
export const StorageProvider = { aws: 0, s3_compatible: 1 } as const;
export type StorageProviderName = keyof typeof StorageProvider;

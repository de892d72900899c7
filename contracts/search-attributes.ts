import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The project's custom search attributes: one definition for the workflows, the clients that start them and the
// local stack that registers them on the dev server. Filter in the Web UI with e.g. `GitlabUserId = 5`.
export const SA_OFFLINE_EXPORT_ID = defineSearchAttributeKey('OfflineExportId', SearchAttributeType.INT);
export const SA_BULK_OPERATION_ID = defineSearchAttributeKey('BulkOperationId', SearchAttributeType.KEYWORD);
export const SA_GITLAB_USER_ID = defineSearchAttributeKey('GitlabUserId', SearchAttributeType.INT);
export const SA_WORKFLOW_KIND = defineSearchAttributeKey('WorkflowKind', SearchAttributeType.KEYWORD);
export const SA_PORTABLE_FULL_PATH = defineSearchAttributeKey('PortableFullPath', SearchAttributeType.KEYWORD);
export const SA_EXPORT_STATUS = defineSearchAttributeKey('ExportStatus', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  SA_OFFLINE_EXPORT_ID,
  SA_BULK_OPERATION_ID,
  SA_GITLAB_USER_ID,
  SA_WORKFLOW_KIND,
  SA_PORTABLE_FULL_PATH,
  SA_EXPORT_STATUS,
] as const;

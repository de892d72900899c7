import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Search attributes an offline export's workflow is started with, so the Web UI and `temporal workflow list` can
// find exports by id, by user or by kind. The names are registered on the dev server (scripts/stack/search-attributes.ts).
// Values are indexed in plain text: ids and kinds only, never a path list or a credential.
export const OfflineExportIdKey = defineSearchAttributeKey('OfflineExportId', SearchAttributeType.INT);
export const GitlabUserIdKey = defineSearchAttributeKey('GitlabUserId', SearchAttributeType.INT);
export const WorkflowKindKey = defineSearchAttributeKey('WorkflowKind', SearchAttributeType.KEYWORD);

export const OFFLINE_EXPORT_WORKFLOW_KIND = 'offline-export';

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The project's custom search attributes: one definition for the workflows, the clients that start them and the
// local stack that registers them on the dev server. Filter in the Web UI with e.g. `GitlabUserId = 5`.
export const SA_OFFLINE_EXPORT_ID = defineSearchAttributeKey('OfflineExportId', SearchAttributeType.INT);
export const SA_BULK_OPERATION_ID = defineSearchAttributeKey('BulkOperationId', SearchAttributeType.KEYWORD);
export const SA_GITLAB_USER_ID = defineSearchAttributeKey('GitlabUserId', SearchAttributeType.INT);
export const SA_WORKFLOW_KIND = defineSearchAttributeKey('WorkflowKind', SearchAttributeType.KEYWORD);
export const SA_PORTABLE_FULL_PATH = defineSearchAttributeKey('PortableFullPath', SearchAttributeType.KEYWORD);
export const SA_EXPORT_STATUS = defineSearchAttributeKey('ExportStatus', SearchAttributeType.KEYWORD);
/**
 * The full paths of every portable a chunk child exports, so `PortableFullPaths = "group/project"` finds the child
 * that exported a project (a KeywordList matches when any of its values equals the one asked for).
 */
export const SA_PORTABLE_FULL_PATHS = defineSearchAttributeKey('PortableFullPaths', SearchAttributeType.KEYWORD_LIST);

/**
 * The largest value Temporal accepts for one search attribute by default (frontend.searchAttributesSizeOfValueLimit,
 * 2 KB, also Temporal Cloud's limit). A start or upsert over it fails the workflow task again and again, so list
 * values are cut to fit (see keywordListWithin).
 */
export const SEARCH_ATTRIBUTE_VALUE_LIMIT_BYTES = 2 * 1024;

/** UTF-8 length without Buffer or TextEncoder (the workflow sandbox need not have them). */
const utf8Length = (s: string): number => {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
};

/**
 * The first values of `values` (in order, duplicates dropped) whose KeywordList payload, the JSON array the server
 * measures, stays within `limitBytes`. Pure, so workflows use it and unit tests pin it.
 */
export function keywordListWithin(
  values: readonly string[],
  limitBytes = SEARCH_ATTRIBUTE_VALUE_LIMIT_BYTES,
): string[] {
  const kept: string[] = [];
  const seen = new Set<string>();
  let size = 2; // []
  for (const value of values) {
    if (seen.has(value)) continue;
    const add = utf8Length(JSON.stringify(value)) + (kept.length > 0 ? 1 : 0);
    if (size + add > limitBytes) break;
    kept.push(value);
    seen.add(value);
    size += add;
  }
  return kept;
}

/** The offline import a workflow belongs to (bulk_imports.id), and its status name as GitLab prints it. */
export const SA_OFFLINE_IMPORT_ID = defineSearchAttributeKey('OfflineImportId', SearchAttributeType.INT);
export const SA_IMPORT_STATUS = defineSearchAttributeKey('ImportStatus', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  SA_OFFLINE_EXPORT_ID,
  SA_BULK_OPERATION_ID,
  SA_GITLAB_USER_ID,
  SA_WORKFLOW_KIND,
  SA_PORTABLE_FULL_PATH,
  SA_EXPORT_STATUS,
  SA_PORTABLE_FULL_PATHS,
  SA_OFFLINE_IMPORT_ID,
  SA_IMPORT_STATUS,
] as const;

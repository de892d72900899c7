import { SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes the workflows set. The dev server registers them at start, and `up` adds any that a
 * persisted database created before an attribute was added here does not know yet.
 */
export const SEARCH_ATTRIBUTES = [
  { name: 'OfflineExportId', type: SearchAttributeType.INT },
  { name: 'BulkOperationId', type: SearchAttributeType.KEYWORD },
  { name: 'GitlabUserId', type: SearchAttributeType.INT },
  { name: 'WorkflowKind', type: SearchAttributeType.KEYWORD },
  { name: 'PortableFullPath', type: SearchAttributeType.KEYWORD },
  { name: 'ExportStatus', type: SearchAttributeType.KEYWORD },
] as const satisfies readonly { name: string; type: SearchAttributeType }[];

// The CLI's --search-attribute flag spells the types differently from the SDK.
const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function cliSearchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', `${sa.name}=${CLI_TYPE_NAMES[sa.type]}`]);
}

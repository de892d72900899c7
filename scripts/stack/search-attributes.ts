import { type SearchAttributeType } from '@temporalio/common';

import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';

/**
 * Custom search attributes the workflows set (defined in workflows/search-attributes.ts). The dev server registers
 * them at start, and `up` adds any that a persisted database created before an attribute was added does not know yet.
 */
export const SEARCH_ATTRIBUTES = ALL_SEARCH_ATTRIBUTES.map((key) => ({ name: key.name, type: key.type }));

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

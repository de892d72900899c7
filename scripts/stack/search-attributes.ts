import type { Connection } from '@temporalio/client';
import { type SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';

import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';

/**
 * Custom search attributes the workflows set (defined in contracts/search-attributes.ts). The dev server registers
 * them at start in the namespace it creates, `up` adds any that a persisted database created before an attribute
 * was added does not know yet, and a namespace made for a test run gets them all when it is registered.
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

/**
 * Registers in `namespace` those of the project's search attributes it lacks; returns their names (empty when it
 * had them all). Throws when one exists with another type: the server cannot change it.
 */
export async function ensureSearchAttributes(conn: Connection, namespace: string): Promise<string[]> {
  const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace });
  const existing = customAttributes ?? {};
  const missing: (typeof SEARCH_ATTRIBUTES)[number][] = [];
  for (const sa of SEARCH_ATTRIBUTES) {
    const have = existing[sa.name];
    if (have === undefined) missing.push(sa);
    else if (have !== encodeSearchAttributeIndexedValueType(sa.type)) {
      throw new Error(
        `search attribute ${sa.name} exists in namespace ${namespace} with another type than ${sa.type}; use a fresh data dir`,
      );
    }
  }
  if (missing.length === 0) return [];
  const searchAttributes = Object.fromEntries(
    missing.map((sa) => [sa.name, encodeSearchAttributeIndexedValueType(sa.type) ?? 0]),
  );
  await conn.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return missing.map((sa) => sa.name);
}

import type { PortableType } from '../../../contracts/offline-export';
import { CONTENT_LOADERS } from './content-relations';
import { SETTINGS_LOADERS } from './settings-relations';
import type { TableLoader } from './types';

export type { ImportTarget, LoadResult, RecordFailure, TableLoader } from './types';

const BY_PORTABLE: Record<PortableType, Map<string, TableLoader>> = { group: new Map(), project: new Map() };
for (const loader of [...CONTENT_LOADERS, ...SETTINGS_LOADERS]) {
  if (BY_PORTABLE[loader.portable].has(loader.relation))
    throw new Error(`two loaders for ${loader.portable} ${loader.relation}`);
  BY_PORTABLE[loader.portable].set(loader.relation, loader);
}

/** The loader of one NDJSON relation ('self' excepted: the runner creates the portable), or undefined. */
export function tableLoader(portable: PortableType, relation: string): TableLoader | undefined {
  return BY_PORTABLE[portable].get(relation);
}

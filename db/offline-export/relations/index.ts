import type { PortableType } from '../../../contracts/offline-export';
import { GROUP_FILE_RELATIONS, PROJECT_FILE_RELATIONS } from '../file-relations';
import { GROUP_RELATIONS } from './group';
import { PROJECT_RELATIONS } from './project';
import type { RelationSource } from './types';

export type { IdRange, PortableKey, RelationSource } from './types';

const BY_PORTABLE: Record<PortableType, Map<string, RelationSource>> = {
  group: new Map([...GROUP_RELATIONS, ...GROUP_FILE_RELATIONS].map((r) => [r.relation, r])),
  project: new Map([...PROJECT_RELATIONS, ...PROJECT_FILE_RELATIONS].map((r) => [r.relation, r])),
};

/** The source of one relation, or undefined when the portable type does not export it. */
export function relationSource(portable: PortableType, relation: string): RelationSource | undefined {
  return BY_PORTABLE[portable].get(relation);
}

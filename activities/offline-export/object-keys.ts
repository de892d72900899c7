import type { PortableType } from '../../contracts/offline-export';

// Import::Offline::ObjectKeyBuilder (gitlab-behaviour.md §A.3): the single source of truth for object keys.

/** group_5, project_42: the lowercased class name, an underscore and the id. */
export const entityPrefix = (type: PortableType, id: number): string => `${type}_${id}`;

/** self.json.gz for the root record, <relation>.ndjson.gz for any other unbatched relation. */
export const relationKey = (exportPrefix: string, type: PortableType, id: number, relation: string): string =>
  `${exportPrefix}/${entityPrefix(type, id)}/${relation}${relation === 'self' ? '.json.gz' : '.ndjson.gz'}`;

export const batchKey = (
  exportPrefix: string,
  type: PortableType,
  id: number,
  relation: string,
  batch: number,
): string => `${exportPrefix}/${entityPrefix(type, id)}/${relation}/batch_${batch}.ndjson.gz`;

export const metadataKey = (exportPrefix: string): string => `${exportPrefix}/metadata.json.gz`;

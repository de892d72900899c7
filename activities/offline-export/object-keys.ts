import type { PortableType } from '../../contracts/offline-export';

// Import::Offline::ObjectKeyBuilder (gitlab-behaviour.md §A.3): the single source of truth for object keys.

/** group_5, project_42: the lowercased class name, an underscore and the id. */
export const entityPrefix = (type: PortableType, id: number): string => `${type}_${id}`;

/** How a relation's objects are written: NDJSON for tree relations, tar for file relations (GitLab's <relation>.tar). */
export type ObjectFormat = 'ndjson' | 'tar';

const extension = (format: ObjectFormat = 'ndjson') => (format === 'tar' ? '.tar.gz' : '.ndjson.gz');

/** self.json.gz for the root record, <relation>.ndjson.gz (or .tar.gz) for any other unbatched relation. */
export const relationKey = (
  exportPrefix: string,
  type: PortableType,
  id: number,
  relation: string,
  format?: ObjectFormat,
): string =>
  `${exportPrefix}/${entityPrefix(type, id)}/${relation}${relation === 'self' ? '.json.gz' : extension(format)}`;

export const batchKey = (
  exportPrefix: string,
  type: PortableType,
  id: number,
  relation: string,
  batch: number,
  format?: ObjectFormat,
): string => `${exportPrefix}/${entityPrefix(type, id)}/${relation}/batch_${batch}${extension(format)}`;

export const metadataKey = (exportPrefix: string): string => `${exportPrefix}/metadata.json.gz`;

import type { PortableType } from '../../../contracts/offline-export';
import type { FileRelationImporter } from './types';

export type { FileRelationImporter, PlacedFiles } from './types';

// uploads (group and project), lfs_objects, repository, wiki, design: filled in by the file relations.
const FILE_IMPORTERS: FileRelationImporter[] = [];

export function fileImporter(portable: PortableType, relation: string): FileRelationImporter | undefined {
  return FILE_IMPORTERS.find((f) => f.portable === portable && f.relation === relation);
}

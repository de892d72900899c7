import type { ArchiverSpec } from './archiver';
import { bundleArchiver } from './bundle';
import { lfsObjectsArchiver } from './lfs-objects';
import { uploadsArchiver } from './uploads';

export type { ArchiverSpec, Archiver, ArchiveContext } from './archiver';

const ARCHIVERS: Record<string, ArchiverSpec> = {
  uploads: uploadsArchiver,
  lfs_objects: lfsObjectsArchiver,
  repository: bundleArchiver('repository'),
  wiki: bundleArchiver('wiki'),
  design: bundleArchiver('design'),
};

/** The archiver of a file relation (a source with format 'tar'). */
export function archiverFor(relation: string): ArchiverSpec | undefined {
  return ARCHIVERS[relation];
}

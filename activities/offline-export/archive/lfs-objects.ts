import { log } from '@temporalio/activity';
import { lfsFilePath } from '../../../contracts/config';
import { unsafeSource, type ArchiveContext, type Archiver, type ArchiverSpec } from './archiver';
import { TAR_END, tarHeader, tarPadding } from './tar';
import { archiveFile } from './uploads';

interface LfsLine {
  oid: string;
  repository_types: (number | null)[];
}

/**
 * GitLab's LfsObjectsExportService layout: one file per object named by its oid, and `lfs_objects.json` mapping each
 * oid to the repository types the project links it for (0 project, 1 wiki, 2 design, or null). Objects are read
 * from GitLab's LFS layout <root>/<oid[0:2]>/<oid[2:4]>/<oid[4:]>; one missing there is skipped, as GitLab does.
 */
export const lfsObjectsArchiver: ArchiverSpec = {
  deferHead: false,
  create(context: ArchiveContext): Archiver {
    const types: Record<string, (number | null)[]> = {};
    return {
      async add(lines) {
        let entries = 0;
        for (const line of lines) {
          const object = JSON.parse(line) as LfsLine;
          if (!/^[0-9a-f]{64}$/.test(object.oid))
            throw unsafeSource(`LFS object oid ${JSON.stringify(object.oid)} is not a sha256`);
          const path = lfsFilePath(context.storage.lfsObjects, object.oid);
          if (await archiveFile(context, path, `./${object.oid}`)) entries++;
          else log.warn('LFS object file missing; skipped', { oid: object.oid, projectId: context.portableId });
          types[object.oid] = object.repository_types;
        }
        return entries;
      },
      async end() {
        const json = Buffer.from(JSON.stringify(types));
        await context.sink.write(tarHeader({ name: './lfs_objects.json', size: json.length }));
        await context.sink.write(json);
        await context.sink.write(tarPadding(json.length));
        await context.sink.write(TAR_END);
        return undefined;
      },
    };
  },
};

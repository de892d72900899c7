import { AccessLevel, groupAccessLevels, projectAccessLevels } from '../../db/access';
import { portableNames } from '../../db/offline-export/portables';
import type { Db } from '../../db/sql';
import { truncateError, type PortableType } from '../../contracts/offline-export';

export interface PortableKey {
  portableType: PortableType;
  portableId: number;
}

/**
 * ExportService's re-check: the user must still administer each portable (group Owner, project Maintainer or
 * above). Returns the refused portables with GitLab's permission_error message, keyed `<type>:<id>`.
 */
export async function refusedPortables(
  sql: Db,
  userId: number,
  portables: PortableKey[],
): Promise<Map<string, string>> {
  const ids = (type: PortableType) => portables.filter((p) => p.portableType === type).map((p) => p.portableId);
  const [groupLevels, projectLevels] = await Promise.all([
    groupAccessLevels(sql, userId, ids('group')),
    projectAccessLevels(sql, userId, ids('project')),
  ]);
  const refused = portables.filter((p) =>
    p.portableType === 'group'
      ? (groupLevels.get(p.portableId) ?? 0) < AccessLevel.OWNER
      : (projectLevels.get(p.portableId) ?? 0) < AccessLevel.MAINTAINER,
  );
  if (refused.length === 0) return new Map();
  const nameOf = await portableNames(sql, refused);
  return new Map(
    refused.map((p) => {
      const key = `${p.portableType}:${p.portableId}`;
      // Gitlab::ImportExport::Error.permission_error
      const message = truncateError(
        `User with ID: ${userId} does not have required permissions for ${p.portableType === 'group' ? 'Group' : 'Project'}: ` +
          `${nameOf.get(key) ?? '(deleted)'} with ID: ${p.portableId}`,
      );
      return [key, message];
    }),
  );
}

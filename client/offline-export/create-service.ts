import type { Client } from '@temporalio/client';
import { randomInt } from 'node:crypto';
import { AccessLevel, featureEnabled, groupAccessLevels, projectAccessLevels } from '../../db/access';
import { encryptCredentials } from '../../db/offline-export/credentials';
import {
  insertOfflineExport,
  markOfflineExportStartFailed,
  readOfflineExportSettings,
  resolvePortables,
} from '../../db/offline-export/create';
import type { Sql } from '../../db/sql';
import type { Config } from '../../contracts/config';
import { StorageProvider } from '../../db/offline-export/statuses';
import { assertBucketReachable } from './bucket-check';
import { validateConfiguration } from './configuration';
import {
  assertEndpointAllowed,
  BlockedEndpointError,
  endpointUrlsToCheck,
  type LookupHost,
} from '../../contracts/endpoint-guard';
import { toEntity, type OfflineExportEntity } from './entity';
import { OfflineExportRequestError, OfflineExportStartError, unprocessable } from './errors';
import { parseEntityPaths, parseStorageParams } from './request-schema';
import { startOfflineExportWorkflow } from './start-workflow';

export { OfflineExportRequestError, OfflineExportStartError } from './errors';
export { toEntity, type OfflineExportEntity } from './entity';

// GitLab's Import::Offline::Exports::CreateService (gitlab-behaviour.md §A.5) for the API and the CLI. Every check
// runs before anything is written, in GitLab's order, and a refusal throws OfflineExportRequestError with GitLab's
// message: a rejected request leaves no row anywhere.

export interface CreateOfflineExportDeps {
  sql: Sql;
  temporal: Client;
  config: Pick<
    Config,
    'ENCRYPTION_KEY' | 'ALLOW_LOCAL_NETWORK_ENDPOINTS' | 'INSTANCE_BASE_URL' | 'TEMPORAL_TASK_QUEUE_EXPORT'
  >;
  /** Overrides config.TEMPORAL_TASK_QUEUE_EXPORT (tests run their own worker on their own queue). */
  taskQueue?: string;
  /** Resolves an endpoint's host name to all its addresses; dns.lookup by default. */
  lookupHost?: LookupHost;
  /** How long the bucket check may take; 5 seconds by default. */
  bucketCheckTimeoutMs?: number;
}

export const FEATURE_FLAG = 'offline_transfer_exports';

export async function createOfflineExport(
  deps: CreateOfflineExportDeps,
  user: { id: number },
  body: unknown,
): Promise<{ export: OfflineExportEntity; workflowId: string }> {
  const { sql, config } = deps;

  // 0. The instance setting. Only GitLab's API checks it, and answers 404 as if the endpoint did not exist.
  const settings = await readOfflineExportSettings(sql);
  if (!settings.exportsEnabled) throw new OfflineExportRequestError(404, '404 Not Found');

  // 1. The feature flag, for this user (on for everyone or for this actor).
  if (!(await featureEnabled(sql, FEATURE_FLAG, { type: 'User', id: user.id }))) {
    throw unprocessable('offline_transfer_exports feature flag must be enabled.');
  }

  // 2-3. Entities given; each path exists and the user may administer it. Every failing path is named at once.
  const paths = parseEntityPaths(body);
  // A path PostgreSQL cannot even hold (a NUL character) names nothing: it is reported missing, never queried.
  const resolved = await resolvePortables(
    sql,
    paths.filter((p) => !p.includes('\u0000')),
  );
  const portables = { ...resolved, missing: paths.filter((p) => p.includes('\u0000') || resolved.missing.includes(p)) };
  const [groupLevels, projectLevels] = await Promise.all([
    groupAccessLevels(
      sql,
      user.id,
      portables.groups.map((g) => g.id),
    ),
    projectAccessLevels(
      sql,
      user.id,
      portables.projects.map((p) => p.id),
    ),
  ]);
  const refused = [
    ...portables.missing,
    // admin_group is Owner; admin_project is Maintainer or above. Blocked users have no access at all.
    ...portables.groups.filter((g) => (groupLevels.get(g.id) ?? 0) < AccessLevel.OWNER).map((g) => g.requested),
    ...portables.projects
      .filter((p) => (projectLevels.get(p.id) ?? 0) < AccessLevel.MAINTAINER)
      .map((p) => p.requested),
  ];
  if (refused.length > 0) {
    throw unprocessable(
      `Export failed. You do not have permission to export the following resources or they do not exist: ${refused.join(', ')}`,
    );
  }

  // 4-5. The storage configuration: request shape, model validations, the endpoint's SSRF guard, the bucket itself.
  const configuration = validateConfiguration(parseStorageParams(body), {
    allowS3Compatible: settings.allowS3Compatible,
  });
  const { credentials } = configuration;
  if ('endpoint' in credentials) {
    try {
      for (const url of endpointUrlsToCheck(credentials.endpoint, configuration.bucket, credentials.path_style)) {
        await assertEndpointAllowed(url, {
          allowLocalNetwork: config.ALLOW_LOCAL_NETWORK_ENDPOINTS,
          lookupHost: deps.lookupHost,
        });
      }
    } catch (err) {
      if (err instanceof BlockedEndpointError) throw unprocessable(err.message);
      throw err;
    }
  }
  await assertBucketReachable(configuration.bucket, credentials, deps.bucketCheckTimeoutMs, {
    allowLocalNetwork: config.ALLOW_LOCAL_NETWORK_ENDPOINTS,
  });

  // 6. One transaction: the export, its configuration (credentials encrypted) and the requested 'self' rows.
  const sourceHostname = new URL(config.INSTANCE_BASE_URL).origin; // scheme and host only, no credentials
  const row = await insertOfflineExport(sql, {
    userId: user.id,
    provider: StorageProvider[configuration.provider],
    bucket: configuration.bucket,
    exportPrefix: generateExportPrefix(),
    sourceHostname,
    credentials: encryptCredentials(credentials, config.ENCRYPTION_KEY),
    groupIds: portables.groups.map((g) => g.id),
    projectIds: portables.projects.map((p) => p.id),
  });

  // 7. Start the workflow only after the commit, so it can never run before (or without) the rows it reads. The
  // price is an export without a workflow if the start fails; that export is then failed right here.
  try {
    const workflowId = await startOfflineExportWorkflow(
      deps.temporal,
      deps.taskQueue ?? config.TEMPORAL_TASK_QUEUE_EXPORT,
      {
        exportId: row.id,
        userId: user.id,
        portables: [
          ...portables.groups.map((g) => ({ fullPath: g.fullPath, type: 'group' as const })),
          ...portables.projects.map((p) => ({ fullPath: p.fullPath, type: 'project' as const })),
        ],
        bucket: row.bucket,
        provider: configuration.provider,
        exportPrefix: row.export_prefix,
        sourceHostname,
      },
    );
    return { export: toEntity(row), workflowId };
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const message = `The export workflow could not be started (${reason}). Try again.`;
    await markOfflineExportStartFailed(sql, row.id, message);
    throw new OfflineExportStartError(row.id, `Export ${row.id} failed. ${message}`, { cause: err });
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** "2026-04-16_19-39-00_export_dJtnb3CV": the UTC time of creation and 8 random alphanumerics, as GitLab names it. */
export function generateExportPrefix(now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-04-16T19:39:00.123Z
  const stamp = `${iso.slice(0, 10)}_${iso.slice(11, 19).replace(/:/g, '-')}`;
  const random = Array.from({ length: 8 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
  return `${stamp}_export_${random}`;
}

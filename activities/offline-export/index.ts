import { storagePaths } from '../../contracts/config';
import type { Deps } from '../deps';
import { createBucketClientCache } from './bucket';
import { createChunkExportActivities } from './chunk-export';
import { createChunkPortableActivities } from './chunk-portables';
import { RelationSlots } from './relation-slots';
import { createCompletionActivities } from './completion';
import { createEmailActivities } from './email';
import { createOrchestrationActivities } from './orchestration';

/** Activities of the offline transfer export, each factory given only the dependencies it uses. */
export function createOfflineExportActivities(deps: Deps) {
  const { config, sql } = deps;
  // One set of S3 clients (per credentials, with keep-alive) shared by every activity that touches a user's bucket.
  const clients = createBucketClientCache({ allowLocalNetwork: config.ALLOW_LOCAL_NETWORK_ENDPOINTS });
  return {
    ...createOrchestrationActivities({
      sql,
      limits: {
        maxConcurrentRelations: config.EXPORT_MAX_CONCURRENT_RELATIONS,
        credentialsPurgeDelayMs: config.EXPORT_CREDENTIALS_PURGE_DELAY_MS,
        portablesPerChunk: config.EXPORT_PORTABLES_PER_CHUNK,
        maxConcurrentChunks: config.EXPORT_MAX_CONCURRENT_CHUNKS,
        chunksPerRun: config.EXPORT_CHUNKS_PER_RUN,
        deadlineMs: config.EXPORT_DEADLINE_MS,
      },
    }),
    ...createChunkExportActivities({
      sql,
      encryptionKey: config.ENCRYPTION_KEY,
      batchSize: config.EXPORT_BATCH_SIZE,
      clients,
      storage: storagePaths(config),
      relationSlots: new RelationSlots(config.EXPORT_WORKER_CONCURRENT_RELATIONS),
    }),
    ...createChunkPortableActivities({ sql }),
    ...createCompletionActivities({
      sql,
      encryptionKey: config.ENCRYPTION_KEY,
      instanceVersion: config.INSTANCE_VERSION,
      instanceEnterprise: config.INSTANCE_ENTERPRISE,
      clients,
    }),
    ...createEmailActivities({
      sql,
      mailer: deps.mailer,
      mailFrom: config.MAIL_FROM,
      instanceBaseUrl: config.INSTANCE_BASE_URL,
    }),
  };
}

export type OfflineExportActivities = ReturnType<typeof createOfflineExportActivities>;

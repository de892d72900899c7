import type { Deps } from './deps';
import { createBulkUpdateActivities } from './bulk-update/index';
import { createOfflineExportActivities } from './offline-export/index';
import { createStackCheckActivities } from './stack-check';

/** Every activity the worker registers, built from the worker's long-lived clients. */
export function createActivities(deps: Deps) {
  return {
    ...createStackCheckActivities({
      sql: deps.sql,
      redis: deps.redis,
      s3: deps.s3,
      bucket: deps.config.S3_BUCKET,
      mailer: deps.mailer,
    }),
    ...createOfflineExportActivities(deps),
    ...createBulkUpdateActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

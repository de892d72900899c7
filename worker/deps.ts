import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Deps } from '../activities/deps';
import { createSql } from '../db/sql';
import { destinationDatabaseUrl, type Config } from '../contracts/config';

export type { Deps };

export function createDeps(config: Config, role: string): Deps {
  // Every relation export in flight streams through a connection of its own; a few more serve the bookkeeping.
  const pool =
    role === 'worker'
      ? Math.max(config.DATABASE_POOL_SIZE, config.EXPORT_WORKER_CONCURRENT_RELATIONS + 5)
      : config.DATABASE_POOL_SIZE;
  return {
    config,
    sql: createSql(config.DATABASE_URL, { max: pool, applicationName: `gitlab-temporal-${role}` }),
    // postgres.js connects on first use: a process that never imports opens no connection to the destination.
    destinationSql: createSql(destinationDatabaseUrl(config), {
      max:
        role === 'worker'
          ? Math.max(config.DATABASE_POOL_SIZE, config.IMPORT_WORKER_CONCURRENT_RELATIONS + 5)
          : config.DATABASE_POOL_SIZE,
      applicationName: `gitlab-temporal-${role}-destination`,
    }),
    redis: new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 3, enableAutoPipelining: true }),
    s3: createStackS3Client(config),
    mailer: createMailer(config),
  };
}

/** Client for the stack's own bucket (the dev bucket); user buckets get their own client per export. */
export function createStackS3Client(config: Config): S3Client {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

export function createMailer(config: Config): Transporter {
  return nodemailer.createTransport({
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    secure: config.SMTP_SECURE,
    auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASSWORD ?? '' } : undefined,
    // The local mail catcher has no certificate; a real relay on 587 still upgrades with STARTTLS.
    tls: { rejectUnauthorized: config.SMTP_SECURE },
  });
}

export async function closeDeps(deps: Deps): Promise<void> {
  deps.mailer.close();
  deps.s3.destroy();
  await Promise.allSettled([
    deps.sql.end({ timeout: 10 }),
    deps.destinationSql.end({ timeout: 10 }),
    deps.redis.quit(),
  ]);
}

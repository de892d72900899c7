import type { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import type { Config } from '../contracts/config';
import type { Sql } from '../db/sql';

/** The long-lived clients activities are built from; the worker (the composition root) creates them once. */
export interface Deps {
  config: Config;
  sql: Sql;
  /** The destination instance an offline import writes (its activities get this pool, never `sql`). */
  destinationSql: Sql;
  redis: Redis;
  s3: S3Client;
  mailer: Transporter;
}

import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { Transporter } from 'nodemailer';
import { hostname } from 'node:os';
import { appliedMigrationCount } from '../db/health';
import type { Db } from '../db/sql';
import type { DependencyStatus } from '../contracts/stack-check';

export interface StackCheckDeps {
  sql: Db;
  redis: Redis;
  s3: S3Client;
  bucket: string;
  mailer: Transporter;
}

export function createStackCheckActivities(deps: StackCheckDeps) {
  return {
    async checkDependencies(
      _input: Record<string, never>,
    ): Promise<{ worker: string; dependencies: DependencyStatus[] }> {
      const probe = async (name: DependencyStatus['name'], run: () => Promise<string>): Promise<DependencyStatus> => {
        const started = Date.now();
        try {
          return { name, ok: true, detail: await run(), ms: Date.now() - started };
        } catch (err) {
          return {
            name,
            ok: false,
            detail: err instanceof Error ? err.message : String(err),
            ms: Date.now() - started,
          };
        }
      };
      const dependencies = await Promise.all([
        probe('postgresql', async () => {
          return `${await appliedMigrationCount(deps.sql)} migrations applied`;
        }),
        probe('redis', async () => `PING ${await deps.redis.ping()}`),
        probe('s3', async () => {
          await deps.s3.send(new HeadBucketCommand({ Bucket: deps.bucket }));
          return `bucket ${deps.bucket} reachable`;
        }),
        probe('smtp', async () => {
          await deps.mailer.verify();
          return 'server accepts connections';
        }),
      ]);
      return { worker: `${process.pid}@${hostname()}`, dependencies };
    },
  };
}

export type StackCheckActivities = ReturnType<typeof createStackCheckActivities>;

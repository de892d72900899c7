import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../contracts/config';
import { formatHostPort, httpGet, isLoopback, tcpAnswers, urlHostPort } from './net';
import type { StackPaths } from './paths';
import { logFile, spawnDetached } from './process';
import type { Probe, Service } from './service';

export function minioService(config: Config, paths: StackPaths): Service {
  const target = urlHostPort(config.S3_ENDPOINT, new URL(config.S3_ENDPOINT).protocol === 'https:' ? 443 : 80);
  const endpoint = config.S3_ENDPOINT.replace(/\/+$/, '');
  const binary = join(paths.toolsBin, 'minio');

  return {
    name: 'minio',
    address: formatHostPort(target),
    url: `http://127.0.0.1:${target.port + 1}`,
    configVar: 'S3_ENDPOINT',
    local: isLoopback(target.host),
    commandToken: 'minio',
    toolBinary: binary,
    logFile: logFile(paths, 'minio'),
    readyTimeoutMs: 30_000,
    groupLeader: true,

    async probe(): Promise<Probe> {
      const answer = await httpGet(`${endpoint}/minio/health/live`);
      if (answer?.status === 200) return { state: 'up' };
      if (answer) return { state: 'foreign', detail: `answers HTTP ${answer.status} on /minio/health/live` };
      return (await tcpAnswers(target)) ? { state: 'foreign', detail: 'answers TCP but not HTTP' } : { state: 'down' };
    },

    async start() {
      const dir = join(paths.dataDir, 'minio');
      mkdirSync(dir, { recursive: true });
      const args = [
        'server',
        dir,
        '--address',
        `127.0.0.1:${target.port}`,
        '--console-address',
        `127.0.0.1:${target.port + 1}`,
        // Keeps the root credentials out of the log, whose tail `up` prints when MinIO does not come up.
        '--anonymous',
        // Otherwise MinIO creates ~/.minio/certs, outside the stack's data dir.
        '--certs-dir',
        join(paths.dataDir, 'minio-certs'),
      ];
      return spawnDetached(binary, args, logFile(paths, 'minio'), {
        MINIO_ROOT_USER: config.S3_ACCESS_KEY_ID,
        MINIO_ROOT_PASSWORD: config.S3_SECRET_ACCESS_KEY,
        // MINIO_REGION is the legacy name; MinIO reads MINIO_SITE_REGION as the current one.
        MINIO_SITE_REGION: config.S3_REGION,
      });
    },

    async prepare() {
      const s3 = new S3Client({
        endpoint,
        region: config.S3_REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
      });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: config.S3_BUCKET }));
        return `created bucket ${config.S3_BUCKET}`;
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return undefined;
        throw new Error(
          `could not create bucket ${config.S3_BUCKET} at ${config.S3_ENDPOINT}: ${name || String(err)}` +
            (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch'
              ? ' (the server runs with other credentials than S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY)'
              : ''),
        );
      } finally {
        s3.destroy();
      }
    },
  };
}

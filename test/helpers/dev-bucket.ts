import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import type { Config } from '../../contracts/config';
import { REPO_ROOT, stackPaths } from '../../scripts/stack/paths';

const execFileAsync = promisify(execFile);

// Export requests for the stack's own bucket: the body is the CLI's --dev-bucket body (devBucketExportBody); these
// are the parts of it, and the seed document's curl example, that tests need on their own.

type BucketSettings = Parameters<typeof devBucketExportBody>[0];

/** The stack bucket's credentials as a request carries them (s3_compatible_configuration), with any overrides. */
export function devBucketCredentials(config: BucketSettings, overrides: Record<string, unknown> = {}) {
  return { ...devBucketExportBody(config, []).s3_compatible_configuration, ...overrides };
}

/**
 * The request of the seed document's curl example, as raw JSON with the stack's bucket in place of GDK's. It names
 * full_path twice in one entity: JSON.parse, like Rails, keeps the last, so it exports flightjs/Flight only.
 */
export function seedCurlExampleBody(config: BucketSettings): string {
  return `{
      "bucket": "${config.S3_BUCKET}",
      "source_hostname": "https://gdk.test:3000",
      "s3_compatible_configuration": {
        "aws_access_key_id": "${config.S3_ACCESS_KEY_ID}",
        "aws_secret_access_key": "${config.S3_SECRET_ACCESS_KEY}",
        "region": "${config.S3_REGION}",
        "path_style": true,
        "endpoint": "${config.S3_ENDPOINT}"
      },
      "entities": [
        {
          "full_path": "gitlab-org",
          "full_path": "flightjs/Flight"
        }
      ]
    }`;
}

/** A MinIO user whose only permissions are one policy, made through MinIO's admin API (the minio-user tool). */
export interface PolicyUser {
  accessKeyId: string;
  secretAccessKey: string;
  remove(): Promise<void>;
}

type StackS3Settings = Pick<
  Config,
  'S3_ENDPOINT' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'STACK_DATA_DIR' | 'STACK_TOOLS_DIR'
>;

/** An IAM policy document with one Allow statement per entry: the actions on the resources. */
export function bucketPolicy(grants: { actions: string[]; resource: string }[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: grants.map((g) => ({ Effect: 'Allow', Action: g.actions, Resource: [g.resource] })),
  });
}

/**
 * GitLab's documented export permissions and nothing else ("Export: s3:PutObject and s3:ListBucket",
 * doc/user/import/gitlab_instances/offline-transfer-migrations.md), scoped the usual AWS way: PutObject on the
 * bucket's objects, ListBucket on the bucket.
 */
export const documentedExportPolicy = (bucket: string) =>
  bucketPolicy([
    { actions: ['s3:PutObject'], resource: `arn:aws:s3:::${bucket}/*` },
    { actions: ['s3:ListBucket'], resource: `arn:aws:s3:::${bucket}` },
  ]);

/**
 * Makes (or replaces) the user `name` on the stack's MinIO with only `policy`, using the stack's root key. Builds the
 * tools first if minio-user is missing (a checkout whose tools predate it).
 */
export async function createPolicyUser(config: StackS3Settings, name: string, policy: string): Promise<PolicyUser> {
  const tool = join(stackPaths(config).toolsBin, 'minio-user');
  if (!existsSync(tool)) {
    await execFileAsync('bash', [join(REPO_ROOT, 'scripts', 'build-tools.sh')], {
      env: { ...process.env, STACK_TOOLS_DIR: config.STACK_TOOLS_DIR },
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  const secretAccessKey = randomBytes(18).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'minio-user-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, policy);
  // Secrets go through the environment, never the command line.
  const env = {
    ...process.env,
    MINIO_ROOT_USER: config.S3_ACCESS_KEY_ID,
    MINIO_ROOT_PASSWORD: config.S3_SECRET_ACCESS_KEY,
    MINIO_USER_SECRET: secretAccessKey,
  };
  try {
    await execFileAsync(tool, ['set', config.S3_ENDPOINT, name, policyFile], { env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    accessKeyId: name,
    secretAccessKey,
    remove: async () => {
      await execFileAsync(tool, ['remove', config.S3_ENDPOINT, name], { env });
    },
  };
}

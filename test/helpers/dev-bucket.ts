import { devBucketExportBody } from '../../client/offline-export/dev-bucket';

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

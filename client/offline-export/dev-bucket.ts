import type { Config } from '../../contracts/config';

/** An export request for the local stack's own bucket, with its credentials: for the CLI's --dev-bucket and the demo. */
export function devBucketExportBody(
  config: Pick<Config, 'S3_BUCKET' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_REGION' | 'S3_ENDPOINT'>,
  fullPaths: string[],
) {
  return {
    bucket: config.S3_BUCKET,
    s3_compatible_configuration: {
      aws_access_key_id: config.S3_ACCESS_KEY_ID,
      aws_secret_access_key: config.S3_SECRET_ACCESS_KEY,
      region: config.S3_REGION,
      path_style: true,
      endpoint: config.S3_ENDPOINT,
    },
    entities: fullPaths.map((full_path) => ({ full_path })),
  };
}

import { S3Client } from '@aws-sdk/client-s3';
import type { StorageCredentials } from '../../db/offline-export/credentials';

/** The S3 client for a user's bucket, built from the export's decrypted credentials (never from config). */
export function createBucketClient(credentials: StorageCredentials): S3Client {
  return new S3Client({
    region: credentials.region,
    endpoint: 'endpoint' in credentials ? credentials.endpoint : undefined,
    forcePathStyle: credentials.path_style,
    credentials: { accessKeyId: credentials.aws_access_key_id, secretAccessKey: credentials.aws_secret_access_key },
    maxAttempts: 3,
    // Only checksums the request needs: some S3-compatible servers reject the newer default trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

import { S3Client } from '@aws-sdk/client-s3';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { guardedLookup } from '../contracts/endpoint-guard';
import type { StorageCredentials } from './offline-export/credentials';

export interface BucketClientOptions {
  /** Allow endpoints on loopback and private networks (ALLOW_LOCAL_NETWORK_ENDPOINTS). */
  allowLocalNetwork: boolean;
}

/**
 * The S3 client for a user's bucket, built from the export's decrypted credentials (never from config). Every
 * connection's addresses go through the SSRF guard: the endpoint's name was checked when the export was created,
 * but it is resolved again for each connection and may now point somewhere else (DNS rebinding).
 */
export function createBucketClient(credentials: StorageCredentials, options: BucketClientOptions): S3Client {
  const lookup: LookupFunction = guardedLookup(options);
  return new S3Client({
    region: credentials.region,
    endpoint: 'endpoint' in credentials ? credentials.endpoint : undefined,
    forcePathStyle: credentials.path_style,
    credentials: { accessKeyId: credentials.aws_access_key_id, secretAccessKey: credentials.aws_secret_access_key },
    maxAttempts: 3,
    // Only checksums the request needs: some S3-compatible servers reject the newer default trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      httpAgent: new HttpAgent({ lookup, keepAlive: true, maxSockets: 50 }),
      httpsAgent: new HttpsAgent({ lookup, keepAlive: true, maxSockets: 50 }),
    },
  });
}

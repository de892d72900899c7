import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createBucketClient } from '../../db/bucket-client';
import type { StorageCredentials } from '../../db/offline-export/credentials';
import { BlockedEndpointError } from '../../contracts/endpoint-guard';
import { unprocessable } from './errors';

// GitLab's test_connection!: a HEAD on the bucket with the user's credentials, so an export with a wrong bucket,
// key or endpoint fails while the user is still there to read the answer. The message says what went wrong but
// never echoes a credential, the endpoint or the SDK's own error text.

export const DEFAULT_BUCKET_CHECK_TIMEOUT_MS = 5_000;
const PREFIX = 'Unable to access object storage bucket.';

export async function assertBucketReachable(
  bucket: string,
  credentials: StorageCredentials,
  timeoutMs = DEFAULT_BUCKET_CHECK_TIMEOUT_MS,
  guard: { allowLocalNetwork: boolean } = { allowLocalNetwork: false },
): Promise<void> {
  // The same client the worker uses, so its connections pass the SSRF guard again (DNS rebinding).
  const client = createBucketClient(credentials, guard);
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw unprocessable(`${PREFIX} ${reason(err, timeoutMs)}`);
  } finally {
    client.destroy();
  }
}

function reason(err: unknown, timeoutMs: number): string {
  const blocked = findBlocked(err);
  if (blocked) return `The endpoint is blocked: ${blocked.message}`;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return `The endpoint did not answer within ${timeoutMs / 1000} seconds.`;
  }
  if (status === 404 || e.name === 'NotFound' || e.name === 'NoSuchBucket') return 'The bucket does not exist.';
  if (status === 403 || status === 401)
    return 'Access was denied: check the access key, the secret and the bucket policy.';
  if (status === 301 || status === 400)
    return `The bucket is not in this region, or the request was refused (status ${status}).`;
  if (status !== undefined) return `Object storage request responded with status ${status}`;
  return 'The endpoint could not be reached.';
}

function findBlocked(err: unknown): BlockedEndpointError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BlockedEndpointError) return e;
  }
  return undefined;
}

import {
  awsCredentialsSchema,
  s3CompatibleCredentialsSchema,
  type StorageCredentials,
} from '../../db/offline-export/credentials';
import { unprocessable } from './errors';
import type { StorageRequest } from './request-schema';

// The model validations of GitLab's Import::Offline::Configuration (gitlab-behaviour.md §A.2), run together and
// reported together as ActiveRecord's RecordInvalid does: "Validation failed: Bucket is invalid, ...".

export const BUCKET_PATTERN = /^[a-z0-9.-]*$/;
const MAX_ENDPOINT_LENGTH = 255;

export interface ValidConfiguration {
  bucket: string;
  provider: StorageRequest['provider'];
  credentials: StorageCredentials;
}

export function validateConfiguration(
  request: StorageRequest,
  settings: { allowS3Compatible: boolean },
): ValidConfiguration {
  const errors: string[] = [];

  if (request.provider === 's3_compatible' && !settings.allowS3Compatible) {
    errors.push('Provider is not included in the list');
  }

  const { bucket } = request;
  if (bucket.trim() === '') errors.push("Bucket can't be blank");
  if (bucket.length < 3) errors.push('Bucket is too short (minimum is 3 characters)');
  if (bucket.length > 63) errors.push('Bucket is too long (maximum is 63 characters)');
  if (!BUCKET_PATTERN.test(bucket)) errors.push('Bucket is invalid');

  const endpointErrors = request.provider === 's3_compatible' ? endpointFormatErrors(request.credentials.endpoint) : [];

  const schema = request.provider === 'aws' ? awsCredentialsSchema : s3CompatibleCredentialsSchema;
  const parsed = schema.safeParse(request.credentials);
  if (!parsed.success) {
    // Name the field and the rule, never the value: the value may be a secret.
    const details = parsed.error.issues
      .filter((issue) => !(endpointErrors.length > 0 && issue.path[0] === 'endpoint'))
      .map((issue) => `${issue.path.map(String).join('.') || 'credentials'}: ${issue.message}`);
    if (details.length > 0) {
      errors.push(`Object storage credentials must be a valid json schema (${details.join('; ')})`);
    }
  }
  errors.push(...endpointErrors);

  if (errors.length > 0 || !parsed.success) throw unprocessable(`Validation failed: ${errors.join(', ')}`);
  return { bucket, provider: request.provider, credentials: parsed.data };
}

/** GitLab's `validates :endpoint, addressable_url: true, length: { maximum: 255 }`. */
function endpointFormatErrors(endpoint: unknown): string[] {
  if (typeof endpoint !== 'string') return [];
  const errors: string[] = [];
  if (endpoint.length > MAX_ENDPOINT_LENGTH)
    errors.push(`Endpoint is too long (maximum is ${MAX_ENDPOINT_LENGTH} characters)`);
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    errors.push('Endpoint must be a valid URL');
  }
  if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
    errors.push('Endpoint is blocked: Only allowed schemes are http, https');
  }
  return errors;
}

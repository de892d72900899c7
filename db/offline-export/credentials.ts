import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

// Object-storage credentials, as GitLab's JSON schemas define them (gitlab-behaviour.md §A.2), and their
// encryption at rest: AES-256-GCM with the configured key, stored as {v, iv, tag, data} in the jsonb column.

export const awsCredentialsSchema = z
  .object({
    aws_access_key_id: z.string().min(1).max(128).regex(/^\w+$/, 'must contain only letters, digits and underscores'),
    aws_secret_access_key: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\w+/]+$/, 'must contain only letters, digits, "+" and "/"'),
    region: z.string().min(1).max(50),
    path_style: z.boolean(),
  })
  .strict();

export const s3CompatibleCredentialsSchema = z
  .object({
    aws_access_key_id: z.string().min(1).max(255),
    aws_secret_access_key: z.string().min(1).max(255),
    region: z.string().min(1).max(255),
    path_style: z.boolean(),
    endpoint: z.string().min(1).max(255),
  })
  .strict();

export type AwsCredentials = z.infer<typeof awsCredentialsSchema>;
export type S3CompatibleCredentials = z.infer<typeof s3CompatibleCredentialsSchema>;
export type StorageCredentials = AwsCredentials | S3CompatibleCredentials;

export interface EncryptedCredentials {
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

export function encryptCredentials(credentials: StorageCredentials, key: Buffer): EncryptedCredentials {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()]);
  return {
    v: 1,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

export class CredentialsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsUnavailableError';
  }
}

/** Throws CredentialsUnavailableError when the credentials were purged or cannot be decrypted with this key. */
export function decryptCredentials(stored: unknown, key: Buffer): StorageCredentials {
  const parsed = z.object({ v: z.literal(1), iv: z.string(), tag: z.string(), data: z.string() }).safeParse(stored);
  if (!parsed.success)
    throw new CredentialsUnavailableError('the object storage credentials of this export were purged');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parsed.data.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(parsed.data.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(parsed.data.data, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as StorageCredentials;
  } catch {
    throw new CredentialsUnavailableError(
      'the object storage credentials cannot be decrypted with the configured ENCRYPTION_KEY',
    );
  }
}

/** The settings a deployment must give (everything else has a default), for the configuration's unit tests. */
export const valid = {
  DATABASE_URL: 'postgres://app:pa55word@db.internal:5432/gitlab',
  REDIS_URL: 'redis://:redispass@127.0.0.1:6379/0',
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  S3_ACCESS_KEY_ID: 'access',
  S3_SECRET_ACCESS_KEY: 'super-secret-value',
  S3_BUCKET: 'offline-transfer-export',
  ENCRYPTION_KEY: 'a'.repeat(64),
  INSTANCE_BASE_URL: 'https://gitlab.example.com',
};

// The Compose setup job's first step: makes sure the export bucket exists on the S3 server (MinIO in the Compose
// file), with the same S3_* variables the worker reads. Idempotent: an existing bucket is left as it is. It runs in the
// app image (copied there by the Dockerfile), so no MinIO client image is needed.
const { CreateBucketCommand, HeadBucketCommand, S3Client } = require('@aws-sdk/client-s3');

async function main() {
  const missing = ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_BUCKET'].filter(
    (name) => !process.env[name],
  );
  if (missing.length > 0) throw new Error(`set ${missing.join(', ')}`);
  const bucket = process.env.S3_BUCKET;
  const s3 = new S3Client({
    endpoint: process.env.S3_ENDPOINT,
    region: process.env.S3_REGION || 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID,
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
    },
  });
  try {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      console.log(`create-bucket: ${bucket} exists on ${process.env.S3_ENDPOINT}`);
      return;
    } catch (err) {
      // HeadBucket answers a missing bucket with a bare 404 (no body, so no error code to read).
      if (err?.$metadata?.httpStatusCode !== 404) throw err;
    }
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    console.log(`create-bucket: created ${bucket} on ${process.env.S3_ENDPOINT}`);
  } finally {
    s3.destroy();
  }
}

main().catch((err) => {
  // The SDK names a body-less answer only by its status (a 403 reads "UnknownError"): print both.
  const status = err?.$metadata?.httpStatusCode;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  process.stderr.write(`create-bucket: ${message}${status ? ` (HTTP ${status})` : ''}\n`);
  process.exit(1);
});

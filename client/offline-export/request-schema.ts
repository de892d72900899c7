import { z } from 'zod';
import { type StorageProviderName } from '../../db/offline-export/statuses';
import { unprocessable } from './errors';

// The request body of POST /offline_exports, checked the way GitLab's Grape params do (lib/api/offline_transfers.rb):
// unknown keys are dropped (declared_params), a missing key "is missing", a value of the wrong type "is invalid",
// and exactly one storage configuration must be given. GitLab answers these with 400 before its service runs; here
// they are checked after the permission checks, in the order the service builds its configuration, and answered
// with 422 like every other refusal so a caller has one status to handle.

// --- entities (CreateService step 2) ---

export const ENTITIES_REQUIRED_MESSAGE = 'Export failed. Entity full paths must be provided.';

const entitiesSchema = z
  .array(z.object({ full_path: z.string().trim().min(1) }), { error: ENTITIES_REQUIRED_MESSAGE })
  .min(1, ENTITIES_REQUIRED_MESSAGE);

/**
 * The requested full paths, in request order and without repeats. Blank lists, elements that are not objects and
 * blank full paths are refused as GitLab's portable_params_valid? refuses them.
 */
export function parseEntityPaths(body: unknown): string[] {
  const entities = isRecord(body) ? body.entities : undefined;
  const parsed = entitiesSchema.safeParse(entities);
  if (!parsed.success) throw unprocessable(ENTITIES_REQUIRED_MESSAGE);
  return [...new Set(parsed.data.map((e) => e.full_path))];
}

// --- storage parameters (Grape's object_storage_configuration_params) ---

const grapeError = (iss: { input?: unknown }) =>
  iss.input === undefined || iss.input === null ? 'is missing' : 'is invalid';
const str = () => z.string({ error: grapeError });
// Grape's Boolean also takes the strings "true" and "false" (form-encoded requests).
const bool = (fallback: boolean) =>
  z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' ? false : v === null ? undefined : v),
    z.boolean({ error: grapeError }).default(fallback),
  );

const awsParams = z.object(
  {
    aws_access_key_id: str(),
    aws_secret_access_key: str(),
    region: str(),
    path_style: bool(false),
  },
  { error: grapeError },
);

const s3CompatibleParams = z.object(
  {
    aws_access_key_id: str(),
    aws_secret_access_key: str(),
    region: str(),
    endpoint: str(),
    path_style: bool(true),
  },
  { error: grapeError },
);

const storageParams = z.object({
  bucket: str(),
  aws_s3_configuration: awsParams.nullish(),
  s3_compatible_configuration: s3CompatibleParams.nullish(),
});

const PROVIDER_PARAMS = ['aws_s3_configuration', 's3_compatible_configuration'] as const;

export interface StorageRequest {
  bucket: string;
  provider: StorageProviderName;
  /** Only the declared keys, path_style defaulted; validated against the provider's schema later. */
  credentials: Record<string, unknown>;
}

/** Throws OfflineExportRequestError(422) with every problem in one Grape-style message. */
export function parseStorageParams(body: unknown): StorageRequest {
  const input = isRecord(body) ? body : {};
  const problems: string[] = [];
  const parsed = storageParams.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${grapePath(issue.path)} ${issue.message}`);
  }
  const given = PROVIDER_PARAMS.filter((key) => input[key] !== undefined && input[key] !== null);
  if (given.length === 0) {
    problems.push(`${PROVIDER_PARAMS.join(', ')} are missing, exactly one parameter must be provided`);
  } else if (given.length > 1) {
    problems.push(`${PROVIDER_PARAMS.join(', ')} are mutually exclusive`);
  }
  if (problems.length > 0 || !parsed.success) throw unprocessable(problems.join(', '));

  const { bucket, aws_s3_configuration: aws, s3_compatible_configuration: s3 } = parsed.data;
  if (aws) return { bucket, provider: 'aws', credentials: aws };
  return { bucket, provider: 's3_compatible', credentials: s3 as Record<string, unknown> };
}

/** ["aws_s3_configuration", "region"] -> "aws_s3_configuration[region]", as Grape names nested params. */
function grapePath(path: PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${head ?? 'body'}${rest.map((p) => `[${p}]`).join('')}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

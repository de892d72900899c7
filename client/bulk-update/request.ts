import { z } from 'zod';
import { BULK_UPDATE_MODES, LIMITS } from '../../contracts/bulk-update';

// The shape of a bulk-update request, as the API and CLI pass it in. Limits and their messages are the GraphQL
// mutation's (ee/app/graphql/mutations/security/attributes/bulk_update.rb).

const ids = (field: string) =>
  z.array(
    z
      .number({ message: `${field} must contain numeric ids` })
      .int(`${field} must contain whole numbers`)
      .positive(`${field} must contain positive ids`),
    { message: `${field} must be a list of ids` },
  );

export const bulkUpdateRequestSchema = z
  .object({
    userId: z.number({ message: 'userId must be the numeric id of the user starting the update' }).int().positive(),
    groupIds: ids('groupIds').default([]),
    projectIds: ids('projectIds').default([]),
    attributeIds: ids('attributeIds'),
    mode: z.enum(BULK_UPDATE_MODES, { message: `mode must be one of ${BULK_UPDATE_MODES.join(', ')}` }),
  })
  .strict();

/**
 * The bulkUpdateSecurityAttributes mutation's argument checks, in its order and with its messages: the items' count
 * is checked as they are parsed, then emptiness, then the attributes' count. GitLab raises the first one it meets.
 */
export function requestLimitProblem(request: {
  groupIds: unknown[];
  projectIds: unknown[];
  attributeIds: unknown[];
}): string | undefined {
  const items = request.groupIds.length + request.projectIds.length;
  if (items > LIMITS.maxItems) return `Too many items (maximum: ${LIMITS.maxItems})`;
  if (items === 0) return 'Items cannot be empty';
  if (request.attributeIds.length === 0) return 'Attributes cannot be empty';
  if (request.attributeIds.length > LIMITS.maxAttributes) {
    return `Too many attributes (maximum: ${LIMITS.maxAttributes})`;
  }
  return undefined;
}

export type BulkUpdateRequest = z.input<typeof bulkUpdateRequestSchema>;
export type ValidBulkUpdateRequest = z.output<typeof bulkUpdateRequestSchema>;

/** A request that was refused; nothing was recorded or started. */
export class BulkUpdateRequestError extends Error {
  constructor(readonly problems: string[]) {
    super(`The bulk update was not started:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'BulkUpdateRequestError';
  }
}

export function parseBulkUpdateRequest(input: unknown): ValidBulkUpdateRequest {
  const parsed = bulkUpdateRequestSchema.safeParse(input);
  if (parsed.success) {
    const problem = requestLimitProblem(parsed.data);
    if (problem) throw new BulkUpdateRequestError([problem]);
    return parsed.data;
  }
  throw new BulkUpdateRequestError(
    parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return `Unknown field(s): ${issue.keys.join(', ')}`;
      return issue.message;
    }),
  );
}

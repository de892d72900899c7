import { z } from 'zod';
import { BULK_UPDATE_MODES, LIMITS } from '../../contracts/bulk-update';

// The shape of a bulk-update request, as the API and CLI pass it in. Limits are the GraphQL mutation's.

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
  .strict()
  .superRefine((request, ctx) => {
    const items = request.groupIds.length + request.projectIds.length;
    if (items === 0) {
      ctx.addIssue({ code: 'custom', path: ['items'], message: 'Select at least one group or project' });
    } else if (items > LIMITS.maxItems) {
      ctx.addIssue({
        code: 'custom',
        path: ['items'],
        message: `Select at most ${LIMITS.maxItems} groups and projects together (got ${items})`,
      });
    }
    const attributes = request.attributeIds.length;
    if (attributes === 0) {
      ctx.addIssue({ code: 'custom', path: ['attributeIds'], message: 'Select at least one security attribute' });
    } else if (attributes > LIMITS.maxAttributes) {
      ctx.addIssue({
        code: 'custom',
        path: ['attributeIds'],
        message: `Select at most ${LIMITS.maxAttributes} security attributes (got ${attributes})`,
      });
    }
  });

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
  if (parsed.success) return parsed.data;
  throw new BulkUpdateRequestError(
    parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return `Unknown field(s): ${issue.keys.join(', ')}`;
      return issue.message;
    }),
  );
}

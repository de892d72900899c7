import { z } from 'zod';
import { badRequest } from './errors';

/** Parses query parameters with zod; a bad one is a 400 naming the parameter, as Grape answers. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue?.path.join('.') || 'parameters';
  throw badRequest(`${name} ${issue?.code === 'unrecognized_keys' ? 'is not allowed' : 'does not have a valid value'}`);
}

export const pageParams = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
};

export const idParam = z.object({
  id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 53 - 1),
});

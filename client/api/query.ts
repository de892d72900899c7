import type { z } from 'zod';
import { invalidParameter } from './errors';

/**
 * Parses query parameters with zod; a bad one is Grape's 400 {"error": ...} naming the parameter. A repeated key counts
 * with its last value, as Rack parses `sort=asc&sort=desc`.
 */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const lastValues = Object.fromEntries(
    Object.entries((query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) : v]),
  );
  const parsed = schema.safeParse(lastValues);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue?.path.join('.') || 'parameters';
  throw invalidParameter(`${name} ${grapeMessage(issue)}`);
}

/**
 * A parameter Grape declares `type: Integer`: decimal digits with an optional sign (spaces around are allowed, as
 * Ruby's Integer(value, 10) allows them). A repeated key counts with its last value, as Rack parses it. Missing or
 * empty is undefined; anything else is Grape's 400 "<name> is invalid". The result may be outside the safe integer
 * range: callers decide what that means.
 */
export function integerParam(params: unknown, name: string): number | undefined {
  const given = (params as Record<string, unknown> | undefined)?.[name];
  const value: unknown = Array.isArray(given) ? given.at(-1) : given;
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\s*[+-]?\d+\s*$/.test(value)) throw invalidParameter(`${name} is invalid`);
  return Number(value);
}

/** Grape's wording per validator: values -> "does not have a valid value", regexp -> "is invalid", presence -> "is missing". */
function grapeMessage(issue: z.core.$ZodIssue | undefined): string {
  switch (issue?.code) {
    case 'unrecognized_keys':
      return 'is not allowed';
    case 'invalid_format':
    case 'too_big':
    case 'too_small':
      return 'is invalid';
    case 'invalid_type':
      return issue.input === undefined ? 'is missing' : 'is invalid';
    default:
      return 'does not have a valid value';
  }
}

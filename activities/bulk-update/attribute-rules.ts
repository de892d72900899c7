import type { AttributeRef } from '../../db/bulk-update/project-attributes';
import { LIMITS, type BulkUpdateMode } from '../../contracts/bulk-update';

// Security::Attributes::UpdateProjectAttributesService's checks, as a pure function of what the project has and
// what the request asks for. The messages are GitLab's, prefixed by the response message they came with
// ("Too many attributes", "Invalid attributes") so the email says both what and why.

export const PERMISSION_DENIED_MESSAGE =
  'Permission denied: you need at least the Maintainer role to change security attributes of this project';
export const PROJECT_GONE_MESSAGE = 'Project not found: it was deleted after the operation started';

export type AttributeChangePlan = { ok: true; add: number[]; remove: number[] } | { ok: false; message: string };

export interface AttributeChangeInput {
  mode: BulkUpdateMode;
  /** The request's attribute ids. */
  requestedIds: number[];
  /** The project's current, non-deleted attributes. */
  current: AttributeRef[];
  /** The requested attributes that exist, are not deleted and belong to the project's root group. */
  available: AttributeRef[];
}

export function planAttributeChange(input: AttributeChangeInput): AttributeChangePlan {
  const requested = [...new Set(input.requestedIds)];
  const currentIds = new Set(input.current.map((a) => a.id));
  let add: number[];
  let remove: number[];
  switch (input.mode) {
    case 'ADD':
      add = requested;
      remove = [];
      break;
    case 'REMOVE':
      add = [];
      remove = requested;
      break;
    case 'REPLACE':
      add = requested;
      remove = [...currentIds];
      break;
  }
  // An id both added and removed (REPLACE keeping an attribute) is neither.
  const addSet = new Set(add);
  const removeSet = new Set(remove);
  add = add.filter((id) => !removeSet.has(id));
  remove = remove.filter((id) => !addSet.has(id));

  if (add.length + remove.length > LIMITS.maxChangesPerCall) {
    return {
      ok: false,
      message: `Too many attributes: Cannot process more than ${LIMITS.maxChangesPerCall} attributes at once`,
    };
  }

  // Attributes the request names must be usable in this project's root group; the current ones REPLACE
  // removes are the project's own and need no check.
  const byId = new Map(input.available.map((a) => [a.id, a]));
  const named = input.mode === 'REMOVE' ? remove : add;
  const missing = named.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    return {
      ok: false,
      message: `Invalid attributes: ${missing.map((id) => `Security attribute not found: ${id}`).join('; ')}`,
    };
  }

  const finalIds = new Set([...currentIds].filter((id) => !remove.includes(id)));
  for (const id of add) finalIds.add(id);
  if (finalIds.size > LIMITS.maxProjectAttributes) {
    return {
      ok: false,
      message: `Too many attributes: Cannot exceed ${LIMITS.maxProjectAttributes} attributes per project`,
    };
  }

  // One attribute per single-selection category, counting what stays after the removals of this same call.
  const known = new Map<number, AttributeRef>([...input.current, ...input.available].map((a) => [a.id, a]));
  for (const id of add) {
    const attribute = known.get(id);
    if (!attribute || attribute.multipleSelection) continue;
    const inCategory = [...finalIds].filter((other) => known.get(other)?.categoryId === attribute.categoryId);
    if (inCategory.length > 1) {
      return {
        ok: false,
        message: `Invalid attributes: Cannot add multiple attributes from the same category ${attribute.categoryId} (${attribute.categoryName})`,
      };
    }
  }

  return {
    ok: true,
    add: add.filter((id) => !currentIds.has(id)),
    remove: remove.filter((id) => currentIds.has(id)),
  };
}

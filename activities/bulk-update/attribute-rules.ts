import type { AttributeRef } from '../../db/bulk-update/project-attributes';
import { LIMITS, type BulkUpdateMode } from '../../contracts/bulk-update';

// Security::Attributes::UpdateProjectAttributesService's checks, as a pure function of what the project has and
// what the request asks for. A refusal is GitLab's response: its message ("Too many attributes", "Invalid
// attributes", ...) and its payload's errors, the reasons, kept apart as GitLab keeps them.

/** The service's UnauthorizedError: the user may not administer this project's security attributes. */
export const UNAUTHORIZED_MESSAGE = 'You are not authorized to perform this action';
/** The service's answer when inserting the links fails validation (an attribute of another top-level group). */
export const UPDATE_FAILED_MESSAGE = 'Failed to update security attributes';
export const TOO_MANY_MESSAGE = 'Too many attributes';
export const INVALID_MESSAGE = 'Invalid attributes';
export const PROJECT_GONE_MESSAGE = 'Project not found: it was deleted after the operation started';

export type AttributeChangePlan =
  { ok: true; add: number[]; remove: number[] } | { ok: false; message: string; errors: string[] };

export interface AttributeChangeInput {
  mode: BulkUpdateMode;
  /** The request's attribute ids. */
  requestedIds: number[];
  /** The project's current, non-deleted attributes. */
  current: AttributeRef[];
  /** The requested attributes that exist and are not deleted, whatever their top-level group. */
  available: AttributeRef[];
  /** The project's top-level group: an attribute can only be linked to projects under its own. */
  rootNamespaceId: number;
}

export function planAttributeChange(input: AttributeChangeInput): AttributeChangePlan {
  const requested = [...new Set(input.requestedIds)];
  const currentIds = new Set(input.current.map((a) => a.id));
  // BackgroundOperationBulkUpdateWorker's parameters: REPLACE removes every current attribute.
  const rawAdd = input.mode === 'REMOVE' ? [] : requested;
  const rawRemove = input.mode === 'ADD' ? [] : input.mode === 'REMOVE' ? requested : [...currentIds];
  // An id both added and removed (REPLACE keeping an attribute) is neither.
  const inBoth = new Set(rawAdd.filter((id) => rawRemove.includes(id)));
  const add = rawAdd.filter((id) => !inBoth.has(id));
  const remove = rawRemove.filter((id) => !inBoth.has(id));

  // Links to create: added ids the project does not have. One that does not exist (or is deleted) is an error;
  // removing an attribute the project does not have, or one that does not exist, is simply nothing to do.
  const byId = new Map(input.available.map((a) => [a.id, a]));
  const notFound: string[] = [];
  const toCreate: AttributeRef[] = [];
  for (const id of add.filter((a) => !currentIds.has(a))) {
    const attribute = byId.get(id);
    if (attribute) toCreate.push(attribute);
    else notFound.push(`Security attribute not found: ${id}`);
  }
  const toDestroy = input.current.filter((a) => remove.includes(a.id));

  const limits: string[] = [];
  if (add.length + remove.length > LIMITS.maxChangesPerCall) {
    limits.push(`Cannot process more than ${LIMITS.maxChangesPerCall} attributes at once`);
  }
  if (input.current.length + toCreate.length - toDestroy.length > LIMITS.maxProjectAttributes) {
    limits.push(`Cannot exceed ${LIMITS.maxProjectAttributes} attributes per project`);
  }
  if (limits.length > 0) return { ok: false, message: TOO_MANY_MESSAGE, errors: limits };

  // One attribute per single-selection category: the categories the project uses, less those this call removes
  // from, then each new attribute in turn.
  const removedFrom = new Set(toDestroy.filter((a) => !a.multipleSelection).map((a) => a.categoryId));
  const used = new Set(
    input.current.filter((a) => !a.multipleSelection && !removedFrom.has(a.categoryId)).map((a) => a.categoryId),
  );
  const invalid = [...notFound];
  for (const attribute of toCreate) {
    if (attribute.multipleSelection) continue;
    if (used.has(attribute.categoryId)) {
      invalid.push(`Cannot add multiple attributes from the same category ${attribute.categoryId}`);
    }
    used.add(attribute.categoryId);
  }
  if (invalid.length > 0) return { ok: false, message: INVALID_MESSAGE, errors: invalid };

  // GitLab finds the attributes by id alone; the link's own validation (the attribute's group must be the
  // project's top-level group) then fails the insert, and the service answers with its generic message.
  if (toCreate.some((a) => a.namespaceId !== input.rootNamespaceId)) {
    return { ok: false, message: UPDATE_FAILED_MESSAGE, errors: [] };
  }

  return { ok: true, add: toCreate.map((a) => a.id), remove: toDestroy.map((a) => a.id) };
}

/** A project's failed outcome as both evaluations (per project and per batch) record it: GitLab's service error. */
export function failedOutcome(
  projectId: number,
  message: string,
  details: string[],
  label?: { name: string; fullPath: string },
) {
  return {
    projectId,
    outcome: 'failed' as const,
    errorCode: 'service_error' as const,
    errorMessage: message,
    errorDetails: details,
    entityName: label?.name ?? null,
    entityFullPath: label?.fullPath || null,
  };
}

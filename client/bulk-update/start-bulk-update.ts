import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { AccessLevel, groupAccessLevels } from '../../db/access';
import { deleteOperationRecord, insertOperation } from '../../db/bulk-update/operations';
import { countExistingItems, findRequestedAttributes, findRequestUser } from '../../db/bulk-update/request-checks';
import type { Sql } from '../../db/sql';
import { generateOperationId } from '../../contracts/operation-id';
import {
  BULK_OPERATION_ID,
  BULK_UPDATE_WORKFLOW,
  type BulkUpdateWorkflowType,
  bulkUpdateWorkflowId,
  GITLAB_USER_ID,
  OPERATION_TYPE_ATTRIBUTE_UPDATE,
  WORKFLOW_KIND,
  WORKFLOW_KIND_BULK_UPDATE,
} from '../../contracts/bulk-update';
import { BulkUpdateRequestError, parseBulkUpdateRequest, type ValidBulkUpdateRequest } from './request';

export interface BulkUpdateServiceDeps {
  sql: Sql;
  client: Pick<Client, 'workflow'>;
  taskQueue: string;
}

export interface StartedBulkUpdate {
  operationId: string;
  workflowId: string;
  runId: string;
  message: 'Bulk update operation initiated';
}

/**
 * Security::Attributes::BulkUpdateService: checks a request, records it, and starts BulkUpdateWorkflow with the
 * operation id only. A refused request throws BulkUpdateRequestError listing every problem, and leaves nothing
 * behind; the projects themselves are checked later, one by one, as GitLab does.
 */
export async function startBulkUpdate(deps: BulkUpdateServiceDeps, input: unknown): Promise<StartedBulkUpdate> {
  const request = parseBulkUpdateRequest(input);
  await checkAgainstInstance(deps.sql, request);

  const operationId = generateOperationId(OPERATION_TYPE_ATTRIBUTE_UPDATE, request.userId);
  const workflowId = bulkUpdateWorkflowId(operationId);
  const attributeIds = [...new Set(request.attributeIds)];
  await insertOperation(deps.sql, {
    id: operationId,
    operationType: OPERATION_TYPE_ATTRIBUTE_UPDATE,
    userId: request.userId,
    workflowId,
    mode: request.mode,
    attributeIds,
    groupIds: [...new Set(request.groupIds)],
    projectIds: [...new Set(request.projectIds)],
  });
  try {
    const handle = await deps.client.workflow.start<BulkUpdateWorkflowType>(BULK_UPDATE_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [{ operationId }],
      // Operation ids are random and new for every request: an id that already has a workflow, running or closed,
      // can only be a mistake, so the start fails instead of attaching to it or running it again.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Bulk ${request.mode} of ${attributeIds.length} security attribute(s) for user ${request.userId}`,
      staticDetails: [
        `**Security-inventory bulk update** \`${operationId}\``,
        '',
        `- user: ${request.userId}`,
        `- mode: ${request.mode}`,
        `- attributes: ${attributeIds.join(', ')}`,
        `- groups: ${request.groupIds.join(', ') || 'none'}`,
        `- projects: ${request.projectIds.join(', ') || 'none'}`,
        `- Redis: \`background_operation:${operationId}\``,
      ].join('\n'),
      typedSearchAttributes: [
        { key: BULK_OPERATION_ID, value: operationId },
        { key: GITLAB_USER_ID, value: request.userId },
        { key: WORKFLOW_KIND, value: WORKFLOW_KIND_BULK_UPDATE },
      ],
    });
    return { operationId, workflowId, runId: handle.firstExecutionRunId, message: 'Bulk update operation initiated' };
  } catch (err) {
    await deleteOperationRecord(deps.sql, operationId);
    throw err;
  }
}

/**
 * GitLab's authorized_find! on every attribute: one that does not exist, is deleted, or that the user may not
 * administer answers with the mutation's resource-not-available error, the same for all three so an attribute's
 * existence is not revealed. Nothing ties an attribute to the selected items here: an item outside the attribute's
 * top-level group fails on its own when the update reaches it, as in GitLab.
 */
export const RESOURCE_NOT_AVAILABLE =
  "The resource that you are attempting to access does not exist or you don't have permission to perform this action";

async function checkAgainstInstance(sql: Sql, request: ValidBulkUpdateRequest): Promise<void> {
  const user = await findRequestUser(sql, request.userId);
  if (!user) throw new BulkUpdateRequestError([`User ${request.userId} does not exist`]);
  if (user.state !== 'active')
    throw new BulkUpdateRequestError([`User ${request.userId} is ${user.state} and cannot start bulk updates`]);

  const attributeIds = [...new Set(request.attributeIds)];
  const attributes = new Map((await findRequestedAttributes(sql, attributeIds)).map((a) => [a.id, a]));
  const roots = [...new Set([...attributes.values()].map((a) => a.rootNamespaceId))];
  const levels = user.admin
    ? new Map(roots.map((r) => [r, AccessLevel.OWNER]))
    : await groupAccessLevels(sql, user.id, roots);
  for (const id of attributeIds) {
    const attribute = attributes.get(id);
    if (!attribute || attribute.deleted || (levels.get(attribute.rootNamespaceId) ?? 0) < AccessLevel.MAINTAINER) {
      throw new BulkUpdateRequestError([RESOURCE_NOT_AVAILABLE]);
    }
  }
  // GitLab's mutation schedules any well-formed ids, and an operation none of whose items exists then does nothing.
  // Here such a request is refused, with the same answer as an attribute not found, and writes nothing.
  if ((await countExistingItems(sql, request.groupIds, request.projectIds)) === 0) {
    throw new BulkUpdateRequestError([RESOURCE_NOT_AVAILABLE]);
  }
}

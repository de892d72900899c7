import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  OFFLINE_EXPORT_WORKFLOW,
  WORKFLOW_KIND_EXPORT,
  offlineExportWorkflowId,
  type OfflineExportInput,
} from '../../contracts/offline-export';
import { type StorageProviderName } from '../../db/offline-export/statuses';
import { SA_GITLAB_USER_ID, SA_OFFLINE_EXPORT_ID, SA_WORKFLOW_KIND } from '../../contracts/search-attributes';

// Starting the OfflineExportWorkflow. Its input is the export id only: the workflow reads everything else from
// PostgreSQL, so neither the credentials nor the (possibly long) entity list ever enter the history. The summary
// and details shown in the Web UI hold ids, paths and the bucket name, nothing secret.

export interface ExportToStart {
  exportId: number;
  userId: number;
  portables: { fullPath: string; type: 'group' | 'project' }[];
  bucket: string;
  provider: StorageProviderName;
  exportPrefix: string;
  sourceHostname: string;
}

const MAX_SUMMARY_BYTES = 200;
const MAX_DETAIL_ENTITIES = 20;

export async function startOfflineExportWorkflow(
  temporal: Client,
  taskQueue: string,
  e: ExportToStart,
): Promise<string> {
  const workflowId = offlineExportWorkflowId(e.exportId);
  const input: OfflineExportInput = { exportId: e.exportId };
  await temporal.workflow.start(OFFLINE_EXPORT_WORKFLOW, {
    workflowId,
    taskQueue,
    args: [input],
    // One workflow per export: a second start for the same export must fail, never attach to or replace the first.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    // Export ids are never reused in a database, so an id that already had a workflow, even a closed one, means
    // something is wrong (another database on the same namespace): refuse it rather than export twice under one id.
    // The tests, which rebuild their database, use a new Temporal namespace for each run instead.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: exportSummary(e),
    staticDetails: exportDetails(e),
    typedSearchAttributes: [
      { key: SA_OFFLINE_EXPORT_ID, value: e.exportId },
      { key: SA_GITLAB_USER_ID, value: e.userId },
      { key: SA_WORKFLOW_KIND, value: WORKFLOW_KIND_EXPORT },
    ],
  });
  return workflowId;
}

/** "Offline export 42 of gitlab-org, org-2/p to bucket", shortened to "... and 3 more" to fit 200 bytes. */
export function exportSummary(e: Pick<ExportToStart, 'exportId' | 'portables' | 'bucket'>): string {
  const paths = e.portables.map((p) => p.fullPath);
  const text = (shown: number) => {
    const list = paths.slice(0, shown).join(', ');
    const rest = paths.length - shown;
    const more = rest > 0 ? `${shown > 0 ? ' and ' : ''}${rest} more` : '';
    return `Offline export ${e.exportId} of ${list}${more} to ${e.bucket}`;
  };
  for (let shown = paths.length; shown >= 0; shown--) {
    const candidate = text(shown);
    if (Buffer.byteLength(candidate) <= MAX_SUMMARY_BYTES) return candidate;
  }
  return truncateBytes(text(0), MAX_SUMMARY_BYTES);
}

export function exportDetails(e: ExportToStart): string {
  const listed = e.portables.slice(0, MAX_DETAIL_ENTITIES).map((p) => `- \`${p.fullPath}\` (${p.type})`);
  const rest = e.portables.length - listed.length;
  return [
    `**Offline transfer export ${e.exportId}**, requested by user ${e.userId}`,
    '',
    `- Bucket: \`${e.bucket}\` (${e.provider})`,
    `- Export prefix: \`${e.exportPrefix}\``,
    `- Source: ${e.sourceHostname}`,
    '',
    `**Requested entities** (${e.portables.length}; subgroups and projects of groups are added by the workflow)`,
    '',
    ...listed,
    ...(rest > 0 ? [`- ... and ${rest} more`] : []),
  ].join('\n');
}

function truncateBytes(text: string, max: number): string {
  let out = text;
  while (Buffer.byteLength(out) > max) out = out.slice(0, -1);
  return out;
}

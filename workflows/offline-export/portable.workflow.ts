import {
  ActivityCancellationType,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { OfflineExportActivities } from '../../activities/offline-export/index';
import { dbShort, failureMessage } from './activity-profiles';
import {
  ExportErrorType,
  PORTABLE_RELATIONS,
  portableExportProgressQuery,
  validatePortableInput,
  type PortableExportInput,
  type PortableExportProgress,
  type PortableExportResult,
} from '../../contracts/offline-export';

/**
 * Relation exports stream for a long time: they heartbeat (a killed worker is noticed within the heartbeat
 * timeout and the retry resumes from the finished batches), and on cancellation the workflow waits for the
 * activity to abort its multipart upload.
 */
const streamLong = proxyActivities<OfflineExportActivities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '20 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  // Rides out a few minutes of a bucket being unreachable (2, 4, ... 60 s between attempts: about 4 minutes), like
  // GitLab's RelationExportWorker with its 6 Sidekiq retries; each attempt resumes from the finished batches.
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 9 },
});

/**
 * One group or project of an offline export: re-checks the user's permission (a refusal fails the portable's
 * 'self' row), then exports each relation, at most maxConcurrentRelations at once. A failed relation is recorded
 * and the others carry on, as in GitLab; the parent decides what the export's outcome is.
 */
export async function OfflineExportPortableWorkflow(input: PortableExportInput): Promise<PortableExportResult> {
  const problem = validatePortableInput(input);
  if (problem) throw ApplicationFailure.create({ type: ExportErrorType.InvalidInput, message: problem, nonRetryable: true });
  const { exportId, portableType, portableId } = input;
  const relations = PORTABLE_RELATIONS[portableType];
  const progress: PortableExportProgress = {
    relations: Object.fromEntries(relations.map((r) => [r, 'pending' as const])),
    objectsWritten: 0,
    bytesWritten: 0,
    recordsWritten: 0,
  };
  setHandler(portableExportProgressQuery, () => progress);
  const result: PortableExportResult = {
    status: 'finished',
    relationsFinished: 0,
    relationsFailed: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    recordsWritten: 0,
  };
  const details = () =>
    setCurrentDetails(
      `**${portableType} ${portableId}** of offline export ${exportId}\n\n` +
        relations.map((r) => `- ${r}: ${progress.relations[r]}`).join('\n') +
        `\n\n${progress.recordsWritten} records, ${progress.objectsWritten} objects, ${progress.bytesWritten} bytes written`,
    );

  setCurrentDetails(`Checking permission on ${portableType} ${portableId}`);
  const start = await dbShort.startPortable({ exportId, portableType, portableId });
  if (!start.permitted) {
    progress.relations.self = 'failed';
    setCurrentDetails(`**Not exported**: ${start.error ?? 'permission denied'}`);
    return { ...result, status: 'failed', relationsFailed: 1 };
  }
  details();

  let next = 0;
  const exportOne = async (relation: string) => {
    progress.relations[relation] = 'running';
    details();
    try {
      const done = await streamLong.exportRelation({ exportId, portableType, portableId, relation });
      progress.relations[relation] = 'finished';
      progress.objectsWritten += done.objects;
      progress.bytesWritten += done.bytes;
      progress.recordsWritten += done.records;
      result.relationsFinished++;
    } catch (err) {
      if (isCancellation(err)) throw err;
      progress.relations[relation] = 'failed';
      result.relationsFailed++;
      await dbShort.markRelationFailed({ exportId, portableType, portableId, relation, error: failureMessage(err) });
    }
    details();
  };
  // A fixed pool of lanes, each taking the next relation: bounded concurrency without a list of promises.
  const lane = async () => {
    while (next < relations.length) await exportOne(relations[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.maxConcurrentRelations, relations.length)) }, lane));

  result.objectsWritten = progress.objectsWritten;
  result.bytesWritten = progress.bytesWritten;
  result.recordsWritten = progress.recordsWritten;
  result.status = result.relationsFinished > 0 ? 'finished' : 'failed';
  return result;
}

import { ApplicationFailure, CancellationScope, isCancellation, setCurrentDetails, sleep } from '@temporalio/workflow';
import {
  ExportErrorType,
  validatePurgeInput,
  type CredentialsPurgeInput,
  type CredentialsPurgeResult,
} from '../../contracts/offline-export';
import { cleanup } from './activity-profiles';

/**
 * GitLab's ConfigurationPurgeWorker as a workflow of its own: waits `delayMs` on a durable timer (kept by the
 * server, so worker restarts and deploys do not lose it), then empties the export's stored credentials. Started by
 * the export's workflow as an abandoned child once the export is finished, so the export's run completes at once
 * and this one is what stays Running, named for what it waits for. Cancelling it purges at once: no ending of it
 * leaves credentials behind except a terminate.
 */
export async function OfflineExportCredentialsPurgeWorkflow(
  input: CredentialsPurgeInput,
): Promise<CredentialsPurgeResult> {
  const invalid = validatePurgeInput(input);
  if (invalid)
    throw ApplicationFailure.create({ type: ExportErrorType.InvalidInput, message: invalid, nonRetryable: true });
  const { exportId, delayMs } = input;
  const at = new Date(Date.now() + delayMs).toISOString();
  setCurrentDetails(`**Waiting** until ${at} to purge the object storage credentials of offline export ${exportId}`);

  let cancelled: Error | undefined;
  try {
    await sleep(delayMs);
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelled = err as Error;
  }
  // The cleanup profile retries until PostgreSQL answers: credentials must not stay because it was away.
  const { purged } = await CancellationScope.nonCancellable(() => cleanup.purgeExportCredentials({ exportId }));
  const what = purged ? 'purged' : 'already purged';
  setCurrentDetails(
    cancelled
      ? `**Cancelled**: the credentials of offline export ${exportId} ${what} at once`
      : `**Done**: the credentials of offline export ${exportId} ${what}`,
  );
  if (cancelled) throw cancelled;
  return { exportId, purged };
}

import type { Deps } from '../../worker/deps';

/** Activities of the offline transfer export. */
export function createOfflineExportActivities(_deps: Deps) {
  return {};
}

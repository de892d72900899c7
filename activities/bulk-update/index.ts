import type { Deps } from '../../worker/deps';

/** Activities of the security-inventory bulk update. */
export function createBulkUpdateActivities(_deps: Deps) {
  return {};
}

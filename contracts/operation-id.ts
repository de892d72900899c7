import { randomBytes } from 'node:crypto';

// Apart from contracts/bulk-update.ts, which the workflow sandbox loads and where node:crypto may not go.
/** GitLab's operation id: `<type>_<user id>_<unix time>_<8 hex>`, minted by the client that starts the operation. */
export function generateOperationId(operationType: string, userId: number, now = new Date()): string {
  return `${operationType}_${userId}_${Math.floor(now.getTime() / 1000)}_${randomBytes(4).toString('hex')}`;
}

// Workflows of the security-inventory bulk update (registered through workflows/index.ts).
export { BulkUpdateWorkflow } from './bulk-update.workflow';
export { BulkUpdateBatchWorkflow } from './batch.workflow';

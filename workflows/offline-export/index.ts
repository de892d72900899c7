// Workflows of the offline transfer export (registered through workflows/index.ts).
export { OfflineExportWorkflow } from './export.workflow';
export { OfflineExportChunkWorkflow } from './chunk.workflow';
export { OfflineExportCredentialsPurgeWorkflow } from './purge.workflow';

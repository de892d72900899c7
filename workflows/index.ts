// The workflow bundle's entry point: every exported function is a workflow type.
export * from './offline-export/index';
export * from './bulk-update/index';
export { StackCheckWorkflow } from './stack-check/workflow';

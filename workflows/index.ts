// The workflow bundle's entry point: every exported function is a workflow type.
export { StackCheckWorkflow } from './stack-check/workflow';

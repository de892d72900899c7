// Shared by the workflow, the worker and clients: no runtime dependencies.

export const STACK_CHECK_WORKFLOW = 'StackCheckWorkflow';

export interface StackCheckInput {
  /** Who asked; shown in the Web UI summary. */
  requestedBy?: string;
}

export interface DependencyStatus {
  name: 'postgresql' | 'redis' | 's3' | 'smtp';
  ok: boolean;
  detail: string;
  ms: number;
}

export interface StackCheckResult {
  ok: boolean;
  worker: string;
  taskQueue: string;
  dependencies: DependencyStatus[];
}

/** The workflow's signature, for typed starts from clients that must not import workflow code. */
export type StackCheckWorkflowType = (input: StackCheckInput) => Promise<StackCheckResult>;

export const stackCheckWorkflowId = (suffix: string): string => `stack-check:${suffix}`;

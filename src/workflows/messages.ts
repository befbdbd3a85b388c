import { defineQuery } from '@temporalio/workflow';
import type { Definition } from '../definitions/schema.js';

/** What a run is given: a validated definition snapshot (the run never reads the database). */
export interface RunInput {
  tenantId: string;
  workflowId: string;
  version: number;
  definition: Definition;
  trigger: unknown;
}

export type RunStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled' | 'timed_out';
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'timed_out'];

export type StepStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'skipped';

/** Why a step or a run failed. `code` is stable, e.g. HTTP_404, EXPRESSION_ERROR, MAX_STEPS_EXCEEDED. */
export interface StepError {
  code: string;
  message: string;
  details?: unknown;
}

export interface StepState {
  id: string;
  type: string;
  status: StepStatus;
  attempts: number;
  /** How often the step ran in this run (loops through `next` run a step again). */
  executions: number;
  startedAt: string;
  endedAt: string | null;
  output: unknown;
  error: StepError | null;
}

/** A run as the `runState` query and the run index see it. */
export interface RunSnapshot {
  status: RunStatus;
  steps: StepState[];
  result: unknown;
  error: StepError | null;
}

/** What the workflow returns when a run completes. */
export interface RunResult {
  output: unknown;
}

export const runStateQuery = defineQuery<RunSnapshot>('runState');

import type { ConnectorDefaultsMap } from '../activities/defaults.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunLimits } from '../shared/run-limits.js';
import type { Definition, FailureTarget, ForeachStepDef, Step } from '../definitions/schema.js';

/** What a run is given: a validated definition snapshot (the run never reads the database). */
export interface RunInput {
  /** The interpreter revision the run started with (see revisions.ts); absent in runs older than revisions. */
  revision?: number;
  /** The budgets the run's expressions and state run under; absent in runs older than revision 3. */
  limits?: RunLimits;
  /** Each connector's defaults when the run started; absent in older runs (see LEGACY_CONNECTOR_DEFAULTS). */
  connectors?: ConnectorDefaultsMap;
  tenantId: string;
  workflowId: string;
  version: number;
  definition: Definition;
  trigger: unknown;
  /** How the run started (`run.source` in expressions); absent in runs older than sources. */
  source?: RunSource;
  /**
   * The failure workflow this run starts when it fails, parks a dead letter, times out or breaches
   * its SLA: its definition's `onFailure`, else its tenant's default, read when the run started.
   * Absent: none (and never for a run that is itself a failure workflow's).
   */
  onFailure?: FailureTarget;
  /**
   * The run's turn in its tenant's start quota, reserved by whoever started it (REVISIONS.startTurnAtStart):
   * go now (`waitMs` 0) or wait for `reservation`. Absent: the run reserves its turn itself.
   */
  startTurn?: { waitMs: number; reservation?: number };
  /** Set when the run continued as new: where to go on, with the state so far. */
  resume?: ResumeState;
  /** The version the run was moved from (see migration.ts); absent while it runs the version it started on. */
  movedFrom?: number;
  /** History events after which the run continues as new (default 10,000; tests lower it). */
  historyLimit?: number;
}

/**
 * What a trigger's Temporal Schedule starts the interpreter with: which trigger fired. The run's
 * first step reads the trigger and the version to run, and builds the run's input (REVISIONS.scheduledRuns).
 */
export interface ScheduledRunStart {
  scheduled: { tenantId: string; triggerId: string };
}

/** How a run started: an API call, a webhook, a schedule's firing (which one, for when), a rerun. */
export const SOURCE_TYPES = ['api', 'webhook', 'schedule', 'kafka', 'rerun', 'failure'] as const;

export interface RunSource {
  type: (typeof SOURCE_TYPES)[number];
  triggerId?: string;
  scheduledAt?: string;
  topic?: string;
  partition?: number;
  offset?: string;
  /** A failure workflow's run: the run whose failure (or SLA breach) started it. */
  failedRunId?: string;
}

/** What a run carries across continue-as-new. */
export interface ResumeState {
  /** The top-level step to run next. */
  at: string;
  steps: StepState[];
  executed: number;
  recorded: number;
  lastOutput: unknown;
  events: [string, unknown[]][];
  /** When the first execution started. */
  startedAt?: string;
  /** The run breached its SLA already: an execution after continue-as-new does not again. */
  slaBreached?: boolean;
}

/** `terminated`: ended from outside the run (API, Web UI, CLI); only the index says it, never the run. */
export const RUN_STATUSES = [
  'running',
  'waiting',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'terminated',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'timed_out', 'terminated'];

export type StepStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled';

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
  /** How often the step ran in its sequence (loops through `next` run a step again). */
  executions: number;
  startedAt: string;
  endedAt: string | null;
  output: unknown;
  error: StepError | null;
  /** Nested steps: one entry per parallel branch, per foreach item (or batch of items). */
  children?: ChildBlock[];
  /** What a waiting step waits for, where a caller can act on it (an approval's links). */
  waiting?: ApprovalWaiting;
}

/** A waiting approval step, as `GET /v1/runs/{id}` shows it. */
export interface ApprovalWaiting {
  type: 'approval';
  approveUrl: string;
  rejectUrl: string;
  expiresAt: string;
}

/** A decision taken on an approval link, sent to the run by the API (`approvalUpdate`). */
export interface ApprovalDecision {
  approvalId: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  fields: Record<string, unknown>;
  at: string;
  by: { ip: string | null; userAgent: string | null };
}

/** What a `respond` step answers the caller waiting on the run (a webhook, `?wait=`). */
export interface RunResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface ChildBlock {
  key: string;
  status: StepStatus;
  steps: StepState[];
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
  /** A schedule's firing whose trigger was deleted, or whose workflow was archived, since it fired: no run. */
  skipped?: true;
}

/** A slice of a large foreach, run as a child workflow so no history grows past Temporal's limits. */
export interface ForeachBatchInput {
  run: Omit<RunInput, 'trigger' | 'resume'> & { runId: string };
  step: ForeachStepDef;
  /** The run context the foreach saw: `{ trigger, steps, run }`. */
  context: { trigger: unknown; steps: Record<string, unknown>; run: Record<string, unknown> };
  items: unknown[];
  offset: number;
  keySuffix: string;
}

/** What to do with a parked step: run it again (optionally as a patched step), or give up. */
export interface RedriveDecision {
  deadLetterId: string;
  action: 'redrive' | 'discard';
  /** The step to run instead: a corrected config, or the step of a newer definition version. */
  step?: Step;
  reason?: string;
}

/** A bulk re-drive: every open dead letter matching `filter`, at most `ratePerSecond`. */
export interface BulkRedriveInput {
  tenantId: string;
  filter: { workflowId?: string; stepId?: string; errorCode?: string; httpStatus?: number };
  ratePerSecond: number;
  limit: number;
}

/** A bulk re-run: every run matching `filter` runs again, at most `ratePerSecond`. */
export interface BulkRerunInput {
  tenantId: string;
  filter: { workflowId?: string; status?: RunStatus; source?: RunSource['type']; since?: string; until?: string };
  version: 'same' | 'latest';
  ratePerSecond: number;
  limit: number;
}

export const runStateQuery = defineQuery<RunSnapshot>('runState');
/** Re-drives or discards a parked step (see `RunState.park`). */
export const redriveSignal = defineSignal<[RedriveDecision]>('redrive');
/**
 * Decides a pending approval. The run takes only the first decision of each approval: the
 * validator refuses any later one (`APPROVAL_DECIDED`) and one for an approval no longer
 * waiting (`APPROVAL_CLOSED`), so a link used twice, even at the same moment, decides once.
 */
export const approvalUpdate = defineUpdate<{ accepted: true }, [ApprovalDecision]>('approvalDecision');
/** Answers once a `respond` step ran, with what it answers; the caller also watches the run's end. */
export const responseUpdate = defineUpdate<RunResponse>('awaitResponse');
/** Delivers `POST /v1/runs/{id}/events/{name}`; kept until a `wait_for_event` step takes it. */
export const eventSignal = defineSignal<[{ name: string; payload: unknown }]>('event');

import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { CloseStatus, RunClosure } from '../db/run-closures-repo.js';
import { runStateQuery, TERMINAL_STATUSES, type RunSnapshot } from '../workflows/run-model.js';
import { SCHEDULED_START, TENANT, VERSION, WORKFLOW_ID } from '../workflows/search-attributes.js';

/** The workflow type of runs; foreach batches and bulk re-drives are parts of other things. */
export const RUN_WORKFLOW_TYPE = 'interpreter';

/** Set by the server (1.30+) on executions whose workflow tasks keep failing. */
export const REPORTED_PROBLEMS = defineSearchAttributeKey('TemporalReportedProblems', SearchAttributeType.KEYWORD_LIST);

const CLOSE_STATUSES: Partial<Record<WorkflowExecutionInfo['status']['name'], CloseStatus>> = {
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  CANCELLED: 'Canceled',
};

/** What of a listed or described execution the closure needs. */
type ExecutionInfo = Pick<
  WorkflowExecutionInfo,
  'type' | 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes'
>;

/**
 * What the index should learn from an execution Temporal lists or describes: nothing while it
 * runs or when it continued as new (the chain goes on), else its close. A termination or a
 * timeout carries why, read from the close event.
 */
export async function closureOf(client: Client, info: ExecutionInfo): Promise<RunClosure | undefined> {
  const closeStatus = CLOSE_STATUSES[info.status.name];
  if (!closeStatus || !info.closeTime || info.type !== RUN_WORKFLOW_TYPE) return undefined;
  if (neverListed(info)) return undefined;
  const closure: RunClosure = {
    id: info.workflowId,
    executionId: info.runId,
    tenantId: info.typedSearchAttributes.get(TENANT),
    closeStatus,
    closedAt: info.closeTime,
    run: runOf(info),
  };
  if (closeStatus === 'Terminated') {
    // A reset terminates the execution it replaces: that is no end of the run.
    if (!(await isLatestExecution(client, info))) return undefined;
    const reason = await terminationReason(client, info);
    return { ...closure, error: { code: 'TERMINATED', message: reason || 'terminated in Temporal' } };
  }
  if (closeStatus === 'TimedOut')
    return {
      ...closure,
      error: { code: 'RUN_TIMED_OUT', message: 'Temporal timed the run out (workflow execution or run timeout)' },
    };
  return closure;
}

/** What the index needs to list a run it has no row of, from the run's search attributes. */
function runOf(info: ExecutionInfo): RunClosure['run'] {
  const workflowId = info.typedSearchAttributes.get(WORKFLOW_ID);
  const version = info.typedSearchAttributes.get(VERSION);
  return workflowId !== undefined && version !== undefined
    ? { workflowId, version, startedAt: info.startTime }
    : undefined;
}

/**
 * A schedule's firing that ended before it read its trigger, or found it deleted (its workflow
 * archived): the version is set once the run is listed, so without one it never was, and is no run.
 */
const neverListed = (info: ExecutionInfo) =>
  info.typedSearchAttributes.get(SCHEDULED_START) !== undefined &&
  info.typedSearchAttributes.get(VERSION) === undefined;

/** Closes the interpreter reaches through its own ending (`RunState.finish`), so its final state holds the end. */
export const ENDED_BY_RUN: readonly CloseStatus[] = ['Completed', 'Failed', 'Canceled'];

/**
 * The final state of a closed run, asked of the execution itself: Temporal answers a query on a
 * closed workflow by having a worker replay its history. Only the latest execution of the run
 * holds its end (a reset's replaced one or a continued one does not): undefined otherwise, and
 * when the state is no end. Throws when Temporal does not answer before `deadline`.
 */
export async function finalStateOf(
  client: Client,
  closure: Pick<RunClosure, 'id' | 'executionId'>,
  deadline: number,
): Promise<RunSnapshot | undefined> {
  return client.withDeadline(deadline, async () => {
    if (!(await isLatestExecution(client, { workflowId: closure.id, runId: closure.executionId }))) return undefined;
    const state = await client.workflow.getHandle(closure.id, closure.executionId).query(runStateQuery);
    return TERMINAL_STATUSES.includes(state.status) ? state : undefined;
  });
}

async function isLatestExecution(client: Client, info: Pick<ExecutionInfo, 'workflowId' | 'runId'>): Promise<boolean> {
  const latest = await client.workflow.getHandle(info.workflowId).describe();
  return latest.runId === info.runId;
}

async function terminationReason(client: Client, info: ExecutionInfo): Promise<string | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: info.workflowId, runId: info.runId },
    historyEventFilterType: proto.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  });
  return history?.events?.[0]?.workflowExecutionTerminatedEventAttributes?.reason ?? undefined;
}

/**
 * `temporal server start-dev` arguments that make the server report stuck runs: it sets
 * `TemporalReportedProblems` after this many workflow task failures in a row (self-hosted servers
 * need `system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute` in their dynamic config).
 */
export const devServerProblemArgs = (failures = 3): string[] => [
  '--dynamic-config-value',
  `system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=${failures}`,
];

import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { AppError } from '../shared/errors.js';
import type { StepState } from '../workflows/run-model.js';

/** Step types that only compute from what the run holds: doing them again changes nothing. */
const REPEATABLE = new Set(['transform', 'choice']);

type HistoryEvent = NonNullable<
  NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>
>[number];
type EventId = NonNullable<HistoryEvent['eventId']>;

const noResetPoint = (message: string, details?: unknown) =>
  new AppError({ code: 'NO_RESET_POINT', message, httpStatus: 400, details });

/**
 * Where a reset to just before top-level step `fromStep` goes: the end of the workflow task in
 * which the step first started. Temporal resets at workflow task boundaries: the new execution
 * keeps the history before that task and does the task again, so the step runs again and every
 * step that ended before the task keeps its output. A step's `startedAt` is the workflow time of
 * its task, which is the task's start event time; the task is the last one started at or before it.
 * Refused (400 NO_RESET_POINT) when the step is not in the current execution (it ran before a
 * continue-as-new) or when an earlier step with side effects started in that same task (its
 * output could not be kept).
 */
export function findResetPoint(events: HistoryEvent[], steps: StepState[], fromStep: string): EventId {
  const index = steps.findIndex((s) => s.id === fromStep);
  const step = steps[index];
  if (!step)
    throw new AppError({
      code: 'STEP_NOT_STARTED',
      message: `step '${fromStep}' has not started in this run (top-level steps only)`,
      httpStatus: 400,
    });
  const startedAt = Date.parse(step.startedAt);
  let taskStart: { at: number; position: number } | undefined;
  events.forEach((e, position) => {
    const at = tsToMs(e.eventTime);
    if (e.workflowTaskStartedEventAttributes && at <= startedAt) taskStart = { at, position };
  });
  if (!taskStart)
    throw noResetPoint(
      `step '${fromStep}' started before this execution of the run (a continue-as-new); it cannot be reset to`,
    );
  const taskEnd = events
    .slice(taskStart.position + 1)
    .find(
      (e) =>
        e.workflowTaskCompletedEventAttributes ||
        e.workflowTaskFailedEventAttributes ||
        e.workflowTaskTimedOutEventAttributes,
    );
  if (!taskEnd?.eventId)
    throw noResetPoint(`the workflow task in which step '${fromStep}' started has not ended yet; try again`);
  const since = taskStart.at;
  const again = steps
    .slice(0, index)
    .filter((s) => Date.parse(s.startedAt) >= since && !REPEATABLE.has(s.type) && s.status !== 'skipped');
  if (again.length > 0) {
    throw noResetPoint(
      `step${again.length > 1 ? 's' : ''} ${again.map((s) => `'${s.id}'`).join(', ')} started in the same workflow task as '${fromStep}' and would run again`,
      { steps: again.map((s) => s.id) },
    );
  }
  return taskEnd.eventId;
}

/** Resets the run's current execution to before `fromStep`; answers the new execution's id. */
export async function resetToStep(
  client: Client,
  runId: string,
  steps: StepState[],
  fromStep: string,
): Promise<string> {
  const current = await client.workflow.getHandle(runId).describe();
  const history = await client.workflow.getHandle(runId, current.runId).fetchHistory();
  const eventId = findResetPoint(history.events ?? [], steps, fromStep);
  const { runId: executionId } = await client.workflowService.resetWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId: runId, runId: current.runId },
    workflowTaskFinishEventId: eventId,
    requestId: randomUUID(),
    reason: `reset to before step '${fromStep}' through the API`,
  });
  return executionId ?? '';
}

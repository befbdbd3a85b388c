import { proxyLocalActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { TriggerActivities } from '../triggers/schedule/firing-activities.js';
import { SCHEDULED_START, VERSION } from './search-attributes.js';
import type { RunInput, ScheduledRunStart } from './run-model.js';

// Local: the run's first command, a read and an insert, costs the server no activity task; a long
// outage of the database retries on timers.
const { startScheduledRun } = proxyLocalActivities<TriggerActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NOT_FOUND'] },
});

/** Whether the interpreter was started by a schedule's firing (REVISIONS.scheduledRuns) rather than with its input. */
export const isScheduledStart = (start: RunInput | ScheduledRunStart): start is ScheduledRunStart =>
  'scheduled' in start;

/**
 * The input of a run a schedule started, read when it fires: the trigger's payload, the version
 * to run (the latest unless pinned), the source with the scheduled time; the run is listed in the
 * index and its version set among its search attributes. Null when the trigger was deleted or its
 * workflow archived since: the firing starts no run.
 */
export async function scheduledRunInput(start: ScheduledRunStart): Promise<RunInput | null> {
  const info = workflowInfo();
  const scheduledAt = (info.typedSearchAttributes.get(SCHEDULED_START) ?? info.startTime).toISOString();
  const input = await startScheduledRun({
    ...start.scheduled,
    runId: info.workflowId,
    scheduledAt,
    startedAt: info.startTime.toISOString(),
  });
  if (input) upsertSearchAttributes([{ key: VERSION, value: input.version }]);
  return input;
}

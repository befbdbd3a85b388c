import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  CancellationScope,
  ChildWorkflowFailure,
  executeChild,
  ParentClosePolicy,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { TriggerActivities } from '../triggers/schedule/firing-activities.js';
import { runSearchAttributes, SCHEDULED_START } from './search-attributes.js';
import type { interpreter } from './interpreter.js';
import { runDetails, runSummary } from './summaries.js';

const { prepareScheduledRun } = proxyActivities<TriggerActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['NOT_FOUND'] },
});

export interface ScheduledTriggerResult {
  runId: string | null;
  outcome: 'completed' | 'failed' | 'already_started' | 'skipped';
}

/**
 * What a trigger's Temporal Schedule started at each firing before the firing became the run
 * itself (REVISIONS.scheduledRuns): kept registered so firings under way finish and recorded
 * histories replay; the schedule reconciler rewrites the schedules that still start it. It reads
 * the trigger and the version to run when it fires, and runs the run as its child: the schedule's
 * overlap policy then applies to runs, and a cancelled firing cancels its run. The run's id
 * derives from (trigger, scheduled time), so one firing never starts two runs.
 */
export async function scheduledTrigger(args: { tenantId: string; triggerId: string }): Promise<ScheduledTriggerResult> {
  const scheduledAt = (
    workflowInfo().typedSearchAttributes.get(SCHEDULED_START) ?? workflowInfo().startTime
  ).toISOString();
  const prepared = await prepareScheduledRun({ ...args, scheduledAt });
  if (!prepared) return { runId: null, outcome: 'skipped' };
  const { runId, input } = prepared;
  try {
    await executeChild<typeof interpreter>('interpreter', {
      workflowId: runId,
      args: [input],
      typedSearchAttributes: runSearchAttributes(input),
      staticSummary: runSummary(input),
      staticDetails: runDetails(input),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    return { runId, outcome: 'completed' };
  } catch (err) {
    // Cancelled by the schedule (cancel_other): the run was cancelled with it; so is the firing.
    if (CancellationScope.current().consideredCancelled) throw err;
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { runId, outcome: 'already_started' };
    // The run's failure is the run's (it shows in the run index); the firing itself did its job.
    if (err instanceof ChildWorkflowFailure) return { runId, outcome: 'failed' };
    throw err;
  }
}

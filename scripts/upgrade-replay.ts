import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { REPLAY_SINKS } from '../src/activities/run-index.js';

export interface ReplayReport {
  replayed: number;
  /** Open executions whose history the new code cannot replay, with why. */
  broken: { workflowId: string; runId: string; type: string; error: string }[];
}

/**
 * The upgrade check: replays the history of every open execution on the task queue against the
 * workflow code given (the build about to roll out). A run that fails here would fail its next
 * workflow task on the new workers (non-determinism): patch the change with `patched()` or pin
 * those runs to the old build before rolling out.
 */
export async function replayOpenRuns(
  client: Client,
  opts: {
    taskQueue: string;
    workflows: Pick<ReplayWorkerOptions, 'workflowsPath' | 'workflowBundle' | 'bundlerOptions' | 'dataConverter'>;
    limit?: number;
  },
): Promise<ReplayReport> {
  const open: { workflowId: string; runId: string; type: string }[] = [];
  for await (const info of client.workflow.list({
    query: `ExecutionStatus = 'Running' AND TaskQueue = '${opts.taskQueue}'`,
  })) {
    open.push({ workflowId: info.workflowId, runId: info.runId, type: info.type });
    if (opts.limit && open.length >= opts.limit) break;
  }
  async function* histories(): AsyncGenerator<{ workflowId: string; history: History }> {
    for (const run of open)
      yield {
        workflowId: run.workflowId,
        history: await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory(),
      };
  }
  const report: ReplayReport = { replayed: 0, broken: [] };
  for await (const result of Worker.runReplayHistories(
    { ...opts.workflows, sinks: REPLAY_SINKS, replayName: 'upgrade-check' },
    histories(),
  )) {
    report.replayed++;
    const run = open.find((r) => r.workflowId === result.workflowId);
    if (result.error && run) report.broken.push({ ...run, error: result.error.message });
  }
  return report;
}

import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { RerunActivities } from '../runs/bulk-rerun-activities.js';
import type { BulkRerunInput } from './run-model.js';

const { listRerunTargets, rerunOne } = proxyActivities<RerunActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '30s' },
});

/**
 * Runs again every run a filter matches, each with its own trigger payload, at most
 * `ratePerSecond` a second, so a fixed receiver is not flooded. A durable workflow: it survives
 * restarts, shows its progress in the Temporal UI, and a retried start gives the same new run.
 */
export async function bulkRerun(input: BulkRerunInput): Promise<{ matched: number; started: number }> {
  const operationId = workflowInfo().workflowId;
  const targets = await listRerunTargets({ tenantId: input.tenantId, filter: input.filter, limit: input.limit });
  let started = 0;
  for (let i = 0; i < targets.length; i += input.ratePerSecond) {
    if (i > 0) await sleep(1000);
    const slice = targets.slice(i, i + input.ratePerSecond);
    const runs = await Promise.all(
      slice.map((runId) => rerunOne({ tenantId: input.tenantId, runId, operationId, version: input.version })),
    );
    started += runs.filter((r) => r !== null).length;
  }
  return { matched: targets.length, started };
}

// The worker bundle for benchmarks: the engine's workflows plus hand-written baselines doing the
// same work, so both run on the same worker with the same settings in the same run.
import { proxyLocalActivities } from '@temporalio/workflow';
import type { createActivities } from '../src/activities/activities.js';

export { bulkRedrive, eventKey, foreachBatch, interpreter, scheduledTrigger } from '../src/workflows/index.js';

type Activities = ReturnType<typeof createActivities>;

/** Does nothing: the server's floor. */
export async function emptyWorkflow(): Promise<null> {
  return null;
}

/** transform → http → transform, written by hand with the engine's own http activity, run locally as the engine runs short steps. */
export async function handWritten(url: string, n: number): Promise<unknown> {
  const { http } = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 5 } });
  const body = { n: n * 2 };
  const res = await http({
    config: { method: 'POST', url, body },
    runId: 'bench',
    workflowId: 'bench',
    tenantId: 'bench',
    stepId: 'call',
    idempotencyKey: `bench:${n}`,
  });
  const output = res.output as { status: number };
  return { status: output.status, n };
}

import { proxyLocalActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { RateActivities } from '../activities/activities.js';
import { REVISIONS } from './revisions.js';
import type { RunState } from './run-state.js';
import type { RunInput } from './run-model.js';

// Local: asked once, before any branch runs, so its answer reaches the workflow as it did live.
const { reserveStart } = proxyLocalActivities<RateActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 10, maximumInterval: '5s' },
});

/**
 * Waits, on a durable timer, for the run's turn in its tenant's start quota (REVISIONS.tenantQuota).
 * Every top-level run goes through it, whatever started it; a child run, a continuation and a run
 * stamped without a quota go straight on. Over the quota the run waits in line: it is never refused.
 * The turn its starter reserved (`reserved`, REVISIONS.startTurnAtStart) is taken as the first answer.
 */
export async function tenantTurn(run: RunState, resumed: boolean, reserved?: RunInput['startTurn']): Promise<void> {
  const perSecond = run.identity.limits?.startsPerSecond;
  if (resumed || !perSecond || workflowInfo().parent || !run.since(REVISIONS.tenantQuota)) return;
  const request = { tenantId: run.identity.tenantId, perSecond };
  let grant = reserved && run.since(REVISIONS.startTurnAtStart) ? reserved : await reserveStart(request);
  while (grant.waitMs > 0) {
    await sleep(grant.waitMs, { summary: 'tenant start quota' });
    grant = await reserveStart({ ...request, reservation: grant.reservation });
  }
}

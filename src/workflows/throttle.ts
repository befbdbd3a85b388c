import { proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { RateActivities } from '../activities/activities.js';
import type { StepRate } from '../activities/connector.js';
import { LATER, renderNow } from '../definitions/expressions.js';
import type { ConnectorStep, RateLimit } from '../definitions/schema.js';
import type { Scope } from './scope.js';
import { stepSummary } from './summaries.js';

const { reserveRate } = proxyLocalActivities<RateActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 10, maximumInterval: '5s' },
});

/**
 * Waits, on durable timers, for the step's slot on its rate-limit key (the step's `rateLimit`, else
 * its connection's), so a throttled step spends no retry attempt. Answers the key and its window,
 * which the activity checks once more before sending and an upstream's Retry-After pauses. Steps with neither ask nothing.
 */
export async function throttle(step: ConnectorStep, scope: Scope): Promise<StepRate | undefined> {
  if (!step.rateLimit && !step.connection) return undefined;
  const { identity } = scope.run;
  const request = {
    tenantId: identity.tenantId,
    workflowId: identity.workflowId,
    stepId: step.id,
    ...(step.connection ? { connection: step.connection } : {}),
    ...(step.rateLimit ? { rateLimit: await renderKey(step.rateLimit, scope) } : {}),
  };
  let answer = await reserveRate(request);
  while (answer.waitMs > 0) {
    await sleep(answer.waitMs, { summary: `${stepSummary(step.id, scope.keySuffix)} rate limit` });
    answer = await reserveRate({ ...request, reservation: answer.reservation });
  }
  return answer.rate;
}

/** A key may be a {{ }} template (per customer, per account); it is rendered against the run. */
async function renderKey(limit: RateLimit, scope: Scope): Promise<RateLimit> {
  if (limit.key === undefined) return limit;
  const now = renderNow(limit.key, scope.context(), scope.run.evaluation);
  const key = now === LATER ? await scope.run.render(limit.key, scope.context(), scope.run.evaluation) : now;
  return { ...limit, key: String(key) };
}

import { CancellationScope, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { RateActivities } from '../activities/activities.js';
import type { StepRate, StepSlot } from '../activities/connector.js';
import { NEEDS_JSONATA } from '../definitions/expressions/fast-path.js';
import { renderNow } from '../definitions/expressions/templates.js';
import type { ConnectorStep, RateLimit } from '../definitions/schema.js';
import { REVISIONS } from './revisions.js';
import type { Scope } from './scope.js';
import { stepSummary } from './summaries.js';

const ADMISSION = { startToCloseTimeout: '10s', retry: { maximumAttempts: 10, maximumInterval: '5s' } } as const;
const local = proxyLocalActivities<RateActivities>(ADMISSION);
// Regular activities, whose results reach the workflow on replay as they did live (REVISIONS.rateByActivity).
const { reserveRate, acquireSlot, releaseSlot } = proxyActivities<RateActivities>(ADMISSION);

/**
 * How much longer than one attempt's timeout a slot's lease lasts: each attempt leases it afresh
 * as it starts, so a call in flight always holds its slot, and one whose worker died frees it soon after.
 */
const LEASE_MARGIN_MS = 10_000;

/** What a connector step goes on with once admitted: its rate and slot for the activity, and how to give the slot back. */
export interface Admission {
  rate?: StepRate;
  slot?: StepSlot;
  /** Gives the slot back, even when the run is being cancelled. */
  release: () => Promise<void>;
}

const NOTHING_HELD = async () => undefined;

/**
 * Waits, on durable timers, for the step's slot on its rate-limit key (the step's `rateLimit`, else
 * its connection's), so a throttled step spends no retry attempt. Answers the key and its window,
 * which the activity checks once more before sending and an upstream's Retry-After pauses. Steps with neither ask nothing.
 * A limit with `concurrency` then waits, on timers too, for one of its slots (the caller releases it).
 * Only limits with `concurrency` take slots, and no run older than the field has one, so slots need
 * no revision of their own.
 */
export async function throttle(
  step: ConnectorStep,
  scope: Scope,
  call: { holder: string; timeoutMs: number },
): Promise<Admission> {
  if (!step.rateLimit && !step.connection) return { release: NOTHING_HELD };
  const { identity } = scope.run;
  const request = {
    tenantId: identity.tenantId,
    workflowId: identity.workflowId,
    stepId: step.id,
    ...(step.connection ? { connection: step.connection } : {}),
    ...(step.rateLimit ? { rateLimit: await renderKey(step.rateLimit, scope) } : {}),
  };
  const summary = stepSummary(step.id, scope.keySuffix);
  const reserve = scope.run.since(REVISIONS.rateByActivity) ? reserveRate : local.reserveRate;
  let answer = await reserve(request);
  while (answer.waitMs > 0) {
    await sleep(answer.waitMs, { summary: `${summary} rate limit` });
    answer = await reserve({ ...request, reservation: answer.reservation });
  }
  const rate = answer.rate ? { rate: answer.rate } : {};
  if (!answer.slot) return { ...rate, release: NOTHING_HELD };
  const slot: StepSlot = { ...answer.slot, holder: call.holder, leaseMs: call.timeoutMs + LEASE_MARGIN_MS };
  await acquire(slot, summary);
  return { ...rate, slot, release: () => release(slot) };
}

/** Asks for the slot until it is granted, sleeping between answers; a cancellation mid-ask gives back what it may have got. */
async function acquire(slot: StepSlot, summary: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    let waitMs: number;
    try {
      ({ waitMs } = await acquireSlot({ ...slot, tries }));
    } catch (err) {
      await release(slot);
      throw err;
    }
    if (waitMs === 0) return;
    await sleep(waitMs, { summary: `${summary} concurrency` });
  }
}

const release = (slot: StepSlot) =>
  CancellationScope.nonCancellable(() => releaseSlot({ key: slot.key, holder: slot.holder }));

/** A key may be a {{ }} template (per customer, per account); it is rendered against the run. */
async function renderKey(limit: RateLimit, scope: Scope): Promise<RateLimit> {
  if (limit.key === undefined) return limit;
  const now = renderNow(limit.key, scope.context(), scope.run.evaluation);
  const key = now === NEEDS_JSONATA ? await scope.run.render(limit.key, scope.context(), scope.run.evaluation) : now;
  return { ...limit, key: String(key) };
}

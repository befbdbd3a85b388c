import type { ConnectionsRepo } from '../db/connections-repo.js';
import { render } from '../definitions/expressions/templates.js';
import type { ExpressionLimits } from '../shared/run-limits.js';
import type { ConnectorStep, RateLimit } from '../definitions/schema.js';
import { AppError } from '../shared/errors.js';
import type { StepRate, StepSlot } from './connector.js';
import { createRateActivities } from './rate/activities.js';
import { pause } from './rate/hold.js';
import type { RateStore } from './rate/store.js';

/** What a tested step goes on with once admitted, as a run's step does (see throttle in the workflow). */
export interface TestAdmission {
  rate?: StepRate;
  slot?: StepSlot;
  /** Gives the slot back. */
  release(): Promise<void>;
}

/** Whose test it is, how long and on what signal it may wait for its turn, and its expression budgets. */
export interface TestAdmissionOptions {
  tenantId: string;
  holder: string;
  timeoutMs: number;
  signal: AbortSignal;
  limits: ExpressionLimits;
}

const NOTHING_HELD = async () => undefined;
/** As a run's: a slot's lease outlasts the attempt by this much. */
const LEASE_MARGIN_MS = 10_000;

/**
 * Waits, within `signal`, for the step's turn on its rate-limit key (its own `rateLimit`, else its
 * connection's) and for a concurrency slot, on the same store and keys as the runs' steps: a step
 * test is one more call to the same upstream. Past the signal: STEP_TEST_THROTTLED.
 */
export async function admitStepTest(
  step: ConnectorStep,
  context: unknown,
  opts: TestAdmissionOptions & { store: RateStore; connections: Pick<ConnectionsRepo, 'get'> },
): Promise<TestAdmission> {
  if (!step.rateLimit && !step.connection) return { release: NOTHING_HELD };
  const limiter = createRateActivities({ store: opts.store, connections: opts.connections });
  const rateLimit = step.rateLimit && (await renderKey(step.rateLimit, context, opts.limits));
  const request = {
    tenantId: opts.tenantId,
    workflowId: 'step-test',
    stepId: step.id,
    ...(step.connection ? { connection: step.connection } : {}),
    ...(rateLimit ? { rateLimit } : {}),
  };
  try {
    let answer = await limiter.reserveRate(request);
    while (answer.waitMs > 0) {
      await pause(answer.waitMs, opts.signal);
      answer = await limiter.reserveRate({ ...request, reservation: answer.reservation });
    }
    const rate = answer.rate ? { rate: answer.rate } : {};
    if (!answer.slot) return { ...rate, release: NOTHING_HELD };
    const slot: StepSlot = { ...answer.slot, holder: opts.holder, leaseMs: opts.timeoutMs + LEASE_MARGIN_MS };
    const release = () => limiter.releaseSlot({ key: slot.key, holder: slot.holder });
    try {
      for (let tries = 0; ; tries++) {
        const { waitMs } = await limiter.acquireSlot({ ...slot, tries });
        if (waitMs === 0) return { ...rate, slot, release };
        await pause(waitMs, opts.signal);
      }
    } catch (err) {
      await release();
      throw err;
    }
  } catch (err) {
    if (!opts.signal.aborted) throw err;
    throw new AppError({
      code: 'STEP_TEST_THROTTLED',
      message: `the step's rate limit or concurrency did not let it run within ${Math.round(opts.timeoutMs / 1000)} s`,
      retryable: true,
    });
  }
}

async function renderKey(limit: RateLimit, context: unknown, limits: ExpressionLimits): Promise<RateLimit> {
  if (limit.key === undefined) return limit;
  return { ...limit, key: String(await render(limit.key, context, { limits })) };
}

import type { ConnectionsRepo } from '../../db/connections-repo.js';
import type { RateLimit } from '../../definitions/schema.js';
import { AppError } from '../../shared/errors.js';
import type { StepRate } from '../connector.js';
import type { Grant, RateStore } from './store.js';

/** The key of a tenant's start quota; step keys are `<tenant>:<name>`, so none can be taken for it. */
const startsKey = (tenantId: string) => `starts\n${tenantId}`;

/**
 * A run's turn in its tenant's start quota (TENANT_START_RATE): go now, or wait and ask again
 * with `reservation`. Turns are handed out one `1/perSecond` apart, in the order asked, so every
 * run waiting gets one and none is refused. Asked by the run (`reserveStart`) or by its starter.
 */
export function reserveStartTurn(
  store: Pick<RateStore, 'reserve'>,
  req: { tenantId: string; perSecond: number; reservation?: number },
): Promise<Grant> {
  return store.reserve(startsKey(req.tenantId), Math.max(1, Math.round(1000 / req.perSecond)), req.reservation);
}

/** What a connector step asks before it runs: its rate limit (key rendered) and connection. */
export interface RateRequest {
  tenantId: string;
  workflowId: string;
  stepId: string;
  connection?: string;
  rateLimit?: RateLimit;
  /** The slot an earlier answer reserved, once its wait is over. */
  reservation?: number;
}

/**
 * Go now (`waitMs` 0), or wait and ask again with `reservation`; `rate` goes with the step to its
 * activity. `slot` names the key and bound of a limit with `concurrency`: the step takes a slot next.
 */
export interface RateAnswer {
  waitMs: number;
  reservation?: number;
  rate?: StepRate;
  slot?: { key: string; limit: number };
}

/** A step taking (or keeping) its slot; `tries` counts the answers to wait it had before. */
export interface SlotRequest {
  key: string;
  limit: number;
  holder: string;
  leaseMs: number;
  tries: number;
}

/**
 * How long a step without a slot waits before asking again: a slot frees when a call ends, which
 * no one announces, so a waiting step asks sooner at first and then at most every 2 s, jittered so
 * the waiters of a key do not all ask at once.
 */
export function slotPollMs(tries: number, random: () => number = Math.random): number {
  return Math.round(Math.min(2_000, 250 * 1.5 ** tries) * (0.75 + random() / 2));
}

/**
 * The check right before sending counts over a window a tenth longer than the limit's: a request
 * reaches the receiver a varying moment after it is counted, and the receiver must never count more.
 */
const SPACING = 1.1;

/** A limit as so many requests per window: 5/s is 5 per second, 0.5/s 1 per 2 s, 30/min 30 per minute. */
function windowOf(limit: RateLimit): { count: number; windowMs: number } {
  const [rate, unitMs] = limit.perSecond !== undefined ? [limit.perSecond, 1000] : [limit.perMinute ?? 60, 60_000];
  return rate >= 1
    ? { count: Math.floor(rate), windowMs: (unitMs * Math.floor(rate)) / rate }
    : { count: 1, windowMs: unitMs / rate };
}

/** The step's own limit, else its connection's (loaded for its tenant); none when neither has one. */
async function limitOf(req: RateRequest, connections: Pick<ConnectionsRepo, 'get'>): Promise<RateLimit | undefined> {
  if (req.rateLimit) return req.rateLimit;
  if (!req.connection) return undefined;
  try {
    return (await connections.get(req.tenantId, req.connection)).rateLimit ?? undefined;
  } catch (err) {
    // The step itself reports the missing connection.
    if (err instanceof AppError && err.code === 'CONNECTION_NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * The local activity behind rate limits that wait: reserves the step's slot on its key. The
 * workflow sleeps (a durable timer) until the slot, so a throttled step spends no retry attempt.
 */
export function createRateActivities(deps: { store: RateStore; connections: Pick<ConnectionsRepo, 'get'> }) {
  return {
    async reserveRate(req: RateRequest): Promise<RateAnswer> {
      const limit = await limitOf(req, deps.connections);
      if (!limit) return { waitMs: 0 };
      const name =
        limit.key ?? (req.connection ? `connection:${req.connection}` : `step:${req.workflowId}:${req.stepId}`);
      const key = `${req.tenantId}:${name}`;
      const slot = limit.concurrency ? { slot: { key, limit: limit.concurrency } } : {};
      if (limit.perSecond === undefined && limit.perMinute === undefined) return { waitMs: 0, ...slot };
      const { count, windowMs } = windowOf(limit);
      const intervalMs = Math.ceil(windowMs / count);
      return {
        ...(await deps.store.reserve(key, intervalMs, req.reservation)),
        rate: { key, count, windowMs: Math.ceil(windowMs * SPACING) },
        ...slot,
      };
    },
    /** A run's turn in its tenant's start quota (see reserveStartTurn). */
    async reserveStart(req: { tenantId: string; perSecond: number; reservation?: number }): Promise<Grant> {
      return reserveStartTurn(deps.store, req);
    },
    /** Takes the step's slot (`waitMs` 0), or answers how long to wait before asking again. */
    async acquireSlot(req: SlotRequest): Promise<{ waitMs: number }> {
      const waitMs = await deps.store.acquire(req.key, req.holder, req.limit, req.leaseMs);
      return { waitMs: waitMs === 0 ? 0 : Math.min(waitMs, slotPollMs(req.tries)) };
    },
    async releaseSlot(req: { key: string; holder: string }): Promise<void> {
      await deps.store.release(req.key, req.holder);
    },
  };
}

export type RateActivities = ReturnType<typeof createRateActivities>;

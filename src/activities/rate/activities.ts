import type { ConnectionsRepo } from '../../db/connections-repo.js';
import type { RateLimit } from '../../definitions/schema.js';
import { AppError } from '../../shared/errors.js';
import type { StepRate } from '../connector.js';
import type { RateStore } from './store.js';

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

/** Go now (`waitMs` 0), or wait and ask again with `reservation`; `rate` goes with the step to its activity. */
export interface RateAnswer {
  waitMs: number;
  reservation?: number;
  rate?: StepRate;
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
      const { count, windowMs } = windowOf(limit);
      const intervalMs = Math.ceil(windowMs / count);
      return {
        ...(await deps.store.reserve(key, intervalMs, req.reservation)),
        rate: { key, count, windowMs: Math.ceil(windowMs * SPACING) },
      };
    },
  };
}

export type RateActivities = ReturnType<typeof createRateActivities>;

import { once } from 'node:events';
import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { Redis } from 'ioredis';
import type { Config } from '../../shared/config.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../../shared/errors.js';
import type { ApiEnv } from '../env.js';
import { problemResponse } from '../problem.js';

const WINDOW_S = 60;
/** Liveness only: a probe answered 429 would get a healthy process restarted, and it costs no I/O. */
const OPEN = /^\/healthz$/;

export interface RateLimits {
  /** Per client IP, before authentication (so bad tokens are limited too); webhooks included. */
  byIp: MiddlewareHandler<ApiEnv>;
  /** Per tenant, after authentication. */
  byTenant: MiddlewareHandler<ApiEnv>;
}

/**
 * Rate limits per client IP and per tenant with `rate-limiter-flexible`: in Redis when a client
 * is given (one budget shared by every API replica), in process otherwise. Over the limit: 429
 * problem+json with `Retry-After`; every answer carries `RateLimit-Limit/Remaining/Reset`.
 */
export function rateLimits(opts: {
  perIpPerMinute: number;
  perTenantPerMinute: number;
  redis?: Redis;
  trustProxy: boolean;
  proxyHops?: number;
  keyPrefix?: string;
}): RateLimits {
  const prefix = opts.keyPrefix ?? 'mz:rl';
  const limiter = (keyPrefix: string, points: number): RateLimiterAbstract =>
    opts.redis
      ? new RateLimiterRedis({
          storeClient: opts.redis,
          keyPrefix,
          points,
          duration: WINDOW_S,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_S }),
        })
      : new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_S });
  const ip = limiter(`${prefix}:ip`, opts.perIpPerMinute);
  const tenant = limiter(`${prefix}:tenant`, opts.perTenantPerMinute);
  return {
    byIp: (c, next) =>
      OPEN.test(c.req.path) ? next() : consume(c, next, ip, clientIp(c, opts.trustProxy ? (opts.proxyHops ?? 1) : 0)),
    byTenant: (c, next) => (c.var.tenantId ? consume(c, next, tenant, c.var.tenantId) : next()),
  };
}

/** Rate limits from the configuration; `ready` once Redis answers (or 5 s passed), `close()` ends the connection. */
export function rateLimitsFromConfig(
  config: Pick<
    Config,
    | 'REDIS_URL'
    | 'RATE_LIMIT_PER_IP_PER_MINUTE'
    | 'RATE_LIMIT_PER_TENANT_PER_MINUTE'
    | 'TRUST_PROXY'
    | 'TRUST_PROXY_HOPS'
  >,
) {
  // Fail fast to the in-process insurance limiter while Redis is away, rather than queueing.
  const redis = config.REDIS_URL
    ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : undefined;
  redis?.on('error', () => undefined);
  const limits = rateLimits({
    perIpPerMinute: config.RATE_LIMIT_PER_IP_PER_MINUTE,
    perTenantPerMinute: config.RATE_LIMIT_PER_TENANT_PER_MINUTE,
    redis,
    trustProxy: config.TRUST_PROXY,
    proxyHops: config.TRUST_PROXY_HOPS,
  });
  // The first requests would otherwise meet a connection still opening and count in-process only.
  const ready = redis
    ? Promise.race([once(redis, 'ready'), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]).then(
        () => undefined,
      )
    : Promise.resolve();
  return { limits, ready, close: async () => void (await redis?.quit()) };
}

async function consume(
  c: Context<ApiEnv>,
  next: () => Promise<void>,
  limiter: RateLimiterAbstract,
  key: string,
): Promise<Response | void> {
  try {
    headers(c, limiter.points, await limiter.consume(key));
  } catch (res) {
    if (!(res instanceof RateLimiterRes)) throw res;
    headers(c, limiter.points, res);
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    c.header('retry-after', String(seconds));
    return problemResponse(
      c,
      new AppError({ code: 'RATE_LIMITED', message: `too many requests; retry in ${seconds} s`, httpStatus: 429 }),
    );
  }
  return next();
}

/** The headers describe the tighter of the two budgets. */
function headers(c: Context<ApiEnv>, limit: number, res: RateLimiterRes): void {
  const shown = c.res.headers.get('ratelimit-remaining');
  if (shown !== null && Number(shown) <= res.remainingPoints) return;
  c.header('ratelimit-limit', String(limit));
  c.header('ratelimit-remaining', String(Math.max(0, res.remainingPoints)));
  c.header('ratelimit-reset', String(Math.ceil(res.msBeforeNext / 1000)));
}

/**
 * The client's address. Each of the `hops` trusted proxies appends the address it was connected
 * from to X-Forwarded-For, so the client is the entry `hops` from the right; everything left of it
 * came from the client and may be forged. With fewer entries than hops, the left-most is the best
 * known. Not an IP address: the connection's own address.
 */
export function clientIp(c: Context<ApiEnv>, hops: number): string {
  const entries =
    hops > 0
      ? (c.req.header('x-forwarded-for') ?? '')
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean)
      : [];
  const forwarded = entries[Math.max(0, entries.length - hops)];
  if (forwarded && isIP(forwarded)) return forwarded;
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // no socket (in-process requests)
  }
}

import { Redis } from 'ioredis';
import { memorySlots, redisSlots } from './slots.js';

/** A slot granted now (`waitMs` 0), or the time to wait for the slot reserved (`reservation`, ms since the epoch). */
export interface Grant {
  waitMs: number;
  reservation?: number;
}

/**
 * Where rate-limit keys keep their schedule: the next free slot per key, and the time a key is
 * paused until (an upstream's Retry-After). Shared by every worker through Redis, or per process.
 */
export interface RateStore {
  /**
   * Reserves the key's next slot, `intervalMs` after the one before, never before a pause ends.
   * A caller back at its earlier `reservation` goes now, unless a pause began since.
   */
  reserve(key: string, intervalMs: number, reservation?: number): Promise<Grant>;
  /** No slot of the key is granted before `untilMs`. */
  pause(key: string, untilMs: number): Promise<void>;
  /**
   * The last check, right before a request goes out: admits it (answers 0, and counts it) when the
   * key is not paused and fewer than `count` went out on it within `windowMs`, else answers how long to wait.
   */
  admit(key: string, count: number, windowMs: number): Promise<number>;
  /**
   * Takes `holder`'s slot among at most `limit` in flight on `key`, leased for `leaseMs`, or
   * extends the lease it holds: answers 0 when held, else the time until the earliest lease ends.
   * A lease that ends frees its slot, so a holder that dies cannot keep one for good.
   */
  acquire(key: string, holder: string, limit: number, leaseMs: number): Promise<number>;
  /** Gives `holder`'s slot on `key` back; nothing happens when it holds none. */
  release(key: string, holder: string): Promise<void>;
}

/** Keys are dropped once their schedule lies this far in the past, so the map stays bounded by live keys. */
const IDLE_MS = 60_000;

/** The store of one process (no REDIS_URL). */
export function memoryRateStore(now: () => number = Date.now): RateStore {
  const next = new Map<string, number>();
  const paused = new Map<string, number>();
  const sent = new Map<string, number[]>();
  const sweep = (t: number) => {
    for (const [k, v] of next) if (v < t - IDLE_MS) next.delete(k);
    for (const [k, v] of paused) if (v < t) paused.delete(k);
    for (const [k, v] of sent) if ((v.at(-1) ?? 0) < t - IDLE_MS) sent.delete(k);
  };
  return {
    ...memorySlots(now),
    async reserve(key, intervalMs, reservation) {
      const t = now();
      if (next.size > 10_000) sweep(t);
      const pausedUntil = paused.get(key) ?? 0;
      if (reservation !== undefined && reservation <= t && pausedUntil <= t) return { waitMs: 0 };
      const slot = Math.max(next.get(key) ?? 0, t, pausedUntil);
      next.set(key, slot + intervalMs);
      return slot <= t ? { waitMs: 0 } : { waitMs: slot - t, reservation: slot };
    },
    async pause(key, untilMs) {
      paused.set(key, Math.max(paused.get(key) ?? 0, untilMs));
    },
    async admit(key, count, windowMs) {
      const t = now();
      const pausedUntil = paused.get(key) ?? 0;
      if (pausedUntil > t) return pausedUntil - t;
      const recent = (sent.get(key) ?? []).filter((at) => at > t - windowMs);
      const oldest = recent[0];
      if (recent.length >= count && oldest !== undefined) return oldest + windowMs - t;
      recent.push(t);
      sent.set(key, recent);
      return 0;
    },
  };
}

// The same rule as the memory store, atomic in Redis; times come from Redis, so workers' clocks may differ.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local reservation = tonumber(ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if reservation >= 0 and reservation <= now and paused <= now then return {0, -1} end
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now, paused)
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + ${IDLE_MS})
if slot <= now then return {0, -1} end
return {slot - now, slot}
`;
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000) end
return 1
`;

const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= count then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], window + 1000)
return 0
`;

/** The store shared by every worker. `pause` takes the time left, so Redis's clock decides. */
export function redisRateStore(client: Redis | WithRedis, prefix = 'mz:steprate'): RateStore {
  const withRedis: WithRedis = typeof client === 'function' ? client : (command) => command(client);
  return {
    ...redisSlots(withRedis, prefix),
    async reserve(key, intervalMs, reservation) {
      const answer: unknown = await withRedis((r) =>
        r.eval(
          RESERVE,
          2,
          `${prefix}:next:${key}`,
          `${prefix}:paused:${key}`,
          String(intervalMs),
          String(reservation ?? -1),
        ),
      );
      const [waitMs, slot] = Array.isArray(answer) ? answer.map(Number) : [0, -1];
      return waitMs && slot !== undefined && slot >= 0 ? { waitMs, reservation: slot } : { waitMs: 0 };
    },
    async pause(key, untilMs) {
      await withRedis((r) => r.eval(PAUSE, 1, `${prefix}:paused:${key}`, String(Math.max(0, untilMs - Date.now()))));
    },
    async admit(key, count, windowMs) {
      return Number(
        await withRedis((r) =>
          r.eval(
            ADMIT,
            2,
            `${prefix}:sent:${key}`,
            `${prefix}:paused:${key}`,
            String(count),
            String(windowMs),
            Math.random().toString(36).slice(2),
          ),
        ),
      );
    },
  };
}

/** Runs a command on a Redis client. */
export type WithRedis = <T>(command: (redis: Redis) => Promise<T>) => Promise<T>;

/**
 * A Redis client opened when first used and closed once `idleMs` passed with no command in
 * flight, so a worker that has stopped is not kept alive by the rate store's connection.
 */
export function idleRedis(url: string, idleMs = 5_000): WithRedis {
  let client: Redis | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  return async (command) => {
    if (!client) {
      client = new Redis(url, { maxRetriesPerRequest: 3 });
      // Failures reach the caller through its commands; the client's own event would crash the worker.
      client.on('error', () => undefined);
    }
    const current = client;
    clearTimeout(timer);
    inFlight++;
    try {
      return await command(current);
    } finally {
      if (--inFlight === 0) {
        timer = setTimeout(() => {
          current.disconnect();
          if (client === current) client = undefined;
        }, idleMs);
        timer.unref();
      }
    }
  };
}

/**
 * A shared store that falls back to this process's own when it fails, as the API's rate limits do:
 * while Redis is away, steps are limited per worker rather than failing or running unlimited.
 */
export function withFallback(primary: RateStore, fallback: RateStore = memoryRateStore()): RateStore {
  const either =
    <A extends unknown[], R>(call: (s: RateStore, ...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      call(primary, ...args).catch(() => call(fallback, ...args));
  return {
    reserve: either((s, key: string, intervalMs: number, reservation?: number) =>
      s.reserve(key, intervalMs, reservation),
    ),
    pause: either((s, key: string, untilMs: number) => s.pause(key, untilMs)),
    admit: either((s, key: string, count: number, windowMs: number) => s.admit(key, count, windowMs)),
    // While Redis is away a slot is taken in this process; one given back elsewhere ends with its lease.
    acquire: either((s, key: string, holder: string, limit: number, leaseMs: number) =>
      s.acquire(key, holder, limit, leaseMs),
    ),
    release: either((s, key: string, holder: string) => s.release(key, holder)),
  };
}

import type { Redis } from 'ioredis';

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
}

/** Keys are dropped once their schedule lies this far in the past, so the map stays bounded by live keys. */
const IDLE_MS = 60_000;

/** The store of one process (no REDIS_URL). */
export function memoryRateStore(now: () => number = Date.now): RateStore {
  const next = new Map<string, number>();
  const paused = new Map<string, number>();
  const sweep = (t: number) => {
    for (const [k, v] of next) if (v < t - IDLE_MS) next.delete(k);
    for (const [k, v] of paused) if (v < t) paused.delete(k);
  };
  return {
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

/** The store shared by every worker. `pause` takes the time left, so Redis's clock decides. */
export function redisRateStore(redis: Redis, prefix = 'mz:steprate'): RateStore {
  return {
    async reserve(key, intervalMs, reservation) {
      const answer: unknown = await redis.eval(RESERVE, 2, `${prefix}:next:${key}`, `${prefix}:paused:${key}`, String(intervalMs), String(reservation ?? -1));
      const [waitMs, slot] = Array.isArray(answer) ? answer.map(Number) : [0, -1];
      return waitMs && slot !== undefined && slot >= 0 ? { waitMs, reservation: slot } : { waitMs: 0 };
    },
    async pause(key, untilMs) {
      await redis.eval(PAUSE, 1, `${prefix}:paused:${key}`, String(Math.max(0, untilMs - Date.now())));
    },
  };
}

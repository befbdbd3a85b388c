import type { RateStore, WithRedis } from './store.js';

/** The part of a rate store that bounds how many calls on a key are in flight at once. */
export type SlotStore = Pick<RateStore, 'acquire' | 'release'>;

/** Past this many keys the in-process store drops keys whose every lease has run out. */
const MAX_KEYS = 10_000;

/** The slots of one process (no REDIS_URL): per key, each holder's lease end. */
export function memorySlots(now: () => number = Date.now): SlotStore {
  const leases = new Map<string, Map<string, number>>();
  const expire = (held: Map<string, number>, t: number) => {
    for (const [holder, until] of held) if (until <= t) held.delete(holder);
  };
  return {
    async acquire(key, holder, limit, leaseMs) {
      const t = now();
      if (leases.size > MAX_KEYS)
        for (const [k, held] of leases) {
          expire(held, t);
          if (held.size === 0) leases.delete(k);
        }
      const held = leases.get(key) ?? new Map<string, number>();
      expire(held, t);
      if (held.has(holder) || held.size < limit) {
        held.set(holder, t + leaseMs);
        leases.set(key, held);
        return 0;
      }
      return Math.max(1, Math.min(...held.values()) - t);
    },
    async release(key, holder) {
      const held = leases.get(key);
      held?.delete(holder);
      if (held?.size === 0) leases.delete(key);
    },
  };
}

// A sorted set per key: holders scored by their lease end, in Redis's clock. Leases that ran out
// are dropped first, so a holder that died frees its slot once its lease ends.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], tonumber(last[2]) - now + 1000)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(first[2]) - now)
`;

/** The slots shared by every worker. */
export function redisSlots(withRedis: WithRedis, prefix: string): SlotStore {
  return {
    async acquire(key, holder, limit, leaseMs) {
      return Number(
        await withRedis((r) => r.eval(ACQUIRE, 1, `${prefix}:slots:${key}`, String(limit), String(leaseMs), holder)),
      );
    },
    async release(key, holder) {
      await withRedis((r) => r.zrem(`${prefix}:slots:${key}`, holder));
    },
  };
}

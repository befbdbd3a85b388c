import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisSkipReason, startRedis } from '../../../test/helpers/redis.js';
import { memoryRateStore, redisRateStore, type RateStore } from './store.js';

/** The rules both stores keep, checked against each (times relative, so Redis's own clock works). */
function behaves(
  name: string,
  make: () => Promise<{ store: RateStore; now: () => number; advance: (ms: number) => Promise<void> }>,
) {
  it(`${name}: spaces slots by the interval, lets a reservation go once its time comes, and a pause holds back every slot`, async () => {
    const { store, now, advance } = await make();
    const first = await store.reserve('k', 100);
    const second = await store.reserve('k', 100);
    const third = await store.reserve('k', 100);
    assert.equal(first.waitMs, 0);
    assert.ok(second.waitMs > 80 && second.waitMs <= 100, `second waits ${second.waitMs}`);
    assert.ok(third.waitMs > 180 && third.waitMs <= 200, `third waits ${third.waitMs}`);
    assert.equal((await store.reserve('other', 100)).waitMs, 0, 'keys are independent');
    await advance(120);
    assert.equal((await store.reserve('k', 100, second.reservation)).waitMs, 0, 'back at its slot, it goes');
    await store.pause('k', now() + 1_000);
    const held = await store.reserve('k', 100, third.reservation);
    assert.ok(held.waitMs > 900, `a reservation inside the pause waits for its end (${held.waitMs})`);
  });

  it(`${name}: right before sending, admits up to count per window and names the wait for the next`, async () => {
    const { store, advance } = await make();
    for (let i = 0; i < 3; i++) assert.equal(await store.admit('g', 3, 300), 0);
    const wait = await store.admit('g', 3, 300);
    assert.ok(wait > 200 && wait <= 300, `waits ${wait}`);
    await advance(wait + 5);
    assert.equal(await store.admit('g', 3, 300), 0);
  });

  it(`${name}: lets at most limit holders in flight, a holder keep its slot, a release free it, and a lapsed lease free it too`, async () => {
    const { store, advance } = await make();
    assert.equal(await store.acquire('c', 'a', 2, 10_000), 0);
    assert.equal(await store.acquire('c', 'b', 2, 300), 0);
    const full = await store.acquire('c', 'x', 2, 10_000);
    assert.ok(full > 0 && full <= 300, `a third waits for the earliest lease to end (${full})`);
    assert.equal(await store.acquire('c', 'a', 2, 10_000), 0, 'a holder asking again keeps its slot');
    assert.equal(await store.acquire('other', 'x', 2, 10_000), 0, 'keys are independent');
    await store.release('c', 'a');
    assert.equal(await store.acquire('c', 'x', 2, 10_000), 0, 'a released slot is taken');
    assert.ok((await store.acquire('c', 'y', 2, 10_000)) > 0, 'then the key is full again');
    await store.release('c', 'nobody');
    await advance(320);
    assert.equal(await store.acquire('c', 'y', 2, 10_000), 0, "b never gave its slot back; its lease's end did");
  });
}

describe('rate-limit stores', () => {
  behaves('in process', async () => {
    let t = 1_000_000;
    return { store: memoryRateStore(() => t), now: () => t, advance: async (ms) => void (t += ms) };
  });

  describe('in Redis', { skip: redisSkipReason() }, () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let client: Redis;
    before(async () => {
      redis = await startRedis();
      client = new Redis(redis.url);
    });
    after(() => {
      client.disconnect();
      redis.stop();
    });
    behaves('shared by every worker', async () => ({
      store: redisRateStore(client, `t${Math.random()}`),
      now: Date.now,
      advance: (ms) => new Promise((r) => setTimeout(r, ms)),
    }));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisSkipReason, startRedis } from '../../../test/helpers/redis.js';
import { memoryRateStore, redisRateStore, type RateStore } from './store.js';

/** Milliseconds lost to rounding between the clock the test reads and the store's (Redis's TIME). */
const ROUNDING_MS = 2;

/**
 * The rules both stores keep, checked against each. Waits are relative: a store on a real clock
 * (Redis) answers later on a slow machine, so each bound allows the time the calls took, as
 * measured by the test around them, and no more.
 */
function behaves(
  name: string,
  make: () => Promise<{ store: RateStore; now: () => number; advance: (ms: number) => Promise<void> }>,
) {
  /** `wait` is the `full` ms a store answers at once, less at most the `spent` ms since. */
  const waitsAbout = (wait: number, full: number, spent: number, what: string) =>
    assert.ok(
      wait <= full + ROUNDING_MS && wait >= full - spent - ROUNDING_MS,
      `${what} waits ${wait} ms: ${full} less the ${spent} ms the calls took`,
    );

  it(`${name}: spaces slots by the interval, lets a reservation go once its time comes, and a pause holds back every slot`, async () => {
    const { store, now, advance } = await make();
    const t0 = now();
    const first = await store.reserve('k', 100);
    const second = await store.reserve('k', 100);
    const third = await store.reserve('k', 100);
    const spent = now() - t0;
    assert.equal(first.waitMs, 0);
    waitsAbout(second.waitMs, 100, spent, 'the second');
    waitsAbout(third.waitMs, 200, spent, 'the third');
    assert.equal((await store.reserve('other', 100)).waitMs, 0, 'keys are independent');
    await advance(120);
    assert.equal((await store.reserve('k', 100, second.reservation)).waitMs, 0, 'back at its slot, it goes');
    const pausedAt = now();
    await store.pause('k', pausedAt + 1_000);
    const held = await store.reserve('k', 100, third.reservation);
    waitsAbout(held.waitMs, 1_000, now() - pausedAt, 'a reservation inside the pause');
  });

  it(`${name}: right before sending, admits up to count per window and names the wait for the next`, async () => {
    const { store, now, advance } = await make();
    const t0 = now();
    for (let i = 0; i < 3; i++) assert.equal(await store.admit('g', 3, 300), 0);
    const wait = await store.admit('g', 3, 300);
    waitsAbout(wait, 300, now() - t0, 'the fourth');
    await advance(wait + 5);
    assert.equal(await store.admit('g', 3, 300), 0);
  });

  it(`${name}: lets at most limit holders in flight, a holder keep its slot, a release free it, and a lapsed lease free it too`, async () => {
    const { store, now, advance } = await make();
    // b's lease is long enough that the calls below end before it, however slow the machine.
    const lease = 3_000;
    assert.equal(await store.acquire('c', 'a', 2, 10_000), 0);
    const t0 = now();
    assert.equal(await store.acquire('c', 'b', 2, lease), 0);
    const full = await store.acquire('c', 'x', 2, 10_000);
    waitsAbout(full, lease, now() - t0, "a third (the earliest lease's end)");
    assert.equal(await store.acquire('c', 'a', 2, 10_000), 0, 'a holder asking again keeps its slot');
    assert.equal(await store.acquire('other', 'x', 2, 10_000), 0, 'keys are independent');
    await store.release('c', 'a');
    assert.equal(await store.acquire('c', 'x', 2, 10_000), 0, 'a released slot is taken');
    assert.ok((await store.acquire('c', 'y', 2, 10_000)) > 0, 'then the key is full again');
    await store.release('c', 'nobody');
    await advance(lease + 20);
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

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createApp } from '../../src/api/app.js';
import { rateLimits } from '../../src/api/middleware/rate-limit.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { redisSkipReason, startRedis } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';

// `npm test` provisions redis-server (scripts/ensure.mjs) or stops. Run on its own without it, each
// test shows as skipped in the summary rather than the suite going missing (on CI it fails).
const skip = redisSkipReason();

describe('rate limits (real Redis, real PostgreSQL and Temporal behind)', () => {
  let stack: Stack;
  let redis: { url: string; stop: () => void };
  const clients: Redis[] = [];
  const children: ChildProcess[] = [];
  before(async () => {
    if (skip) return;
    [stack, redis] = await Promise.all([startStack(), startRedis()]);
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    for (const c of children) c.kill('SIGKILL');
    redis?.stop();
    await stack?.stop();
  });

  /** Another API instance: its own limiter objects and its own Redis connection, as a separate replica has. */
  const replica = (perIp: number, perTenant: number, keyPrefix: string) => {
    const client = new Redis(redis.url);
    clients.push(client);
    return createApp({
      ...stack.deps,
      rateLimits: rateLimits({
        perIpPerMinute: perIp,
        perTenantPerMinute: perTenant,
        redis: client,
        trustProxy: true,
        keyPrefix,
      }),
    });
  };

  /** An API process of its own, as a replica behind a load balancer is. */
  async function apiProcess(): Promise<{ url: string; child: ChildProcess }> {
    const port = await freePort();
    const env = {
      ...process.env,
      ...stack.workerEnv,
      API_PORT: String(port),
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_IP_PER_MINUTE: '5',
      TRUST_PROXY: 'true',
    };
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../../src/main/api.ts', import.meta.url))],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor('the API process', async () => (out.includes('API listening') ? true : undefined), 60_000);
    return { url: `http://127.0.0.1:${port}`, child };
  }

  it(
    'two API processes share one per-IP budget through Redis; past it, 429 problem+json with Retry-After and RateLimit headers',
    { skip },
    async () => {
      const [a, b] = await Promise.all([apiProcess(), apiProcess()]);
      const get = (api: { url: string }, ip: string, path = '/v1/workflows') =>
        fetch(`${api.url}${path}`, { headers: { 'x-forwarded-for': ip } });
      const remaining: string[] = [];
      for (const app of [a, b, a, b, a]) {
        const res = await get(app, '203.0.113.7');
        assert.equal(res.status, 200);
        remaining.push(res.headers.get('ratelimit-remaining') ?? '');
      }
      assert.deepEqual(remaining, ['4', '3', '2', '1', '0']);
      const limited = await get(b, '203.0.113.7');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('content-type'), 'application/problem+json');
      assert.match(await limited.text(), /"code":"RATE_LIMITED"/);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal(limited.headers.get('ratelimit-limit'), '5');
      assert.equal(limited.headers.get('ratelimit-remaining'), '0');
      assert.equal((await get(a, '198.51.100.9')).status, 200, 'another client has its own budget');
      assert.equal((await get(a, '203.0.113.7', '/healthz')).status, 200, 'probes are never limited');
    },
  );

  it('a tenant has a budget of its own across API instances', { skip }, async () => {
    const [a, b] = [replica(1000, 3, 'tenant-test'), replica(1000, 3, 'tenant-test')];
    const get = (app: ReturnType<typeof createApp>, ip: string) =>
      app.request('/v1/workflows', { headers: { 'x-forwarded-for': ip } });
    const statuses = [];
    for (const [i, app] of [a, b, a, b].entries()) statuses.push((await get(app, `192.0.2.${i}`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });
});

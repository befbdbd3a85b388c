import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createApp } from '../src/api/app.js';
import { rateLimits } from '../src/api/middleware/rate-limit.js';
import { freePort, waitFor } from './helpers/ports.js';
import { startStack, type Stack } from './helpers/stack.js';

/** A real redis-server (Debian package) on a free loopback port, started by the test. */
async function startRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('redis-server', async () => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG' ? true : undefined;
    } finally {
      probe.disconnect();
    }
  });
  return { url, process: child };
}

describe('rate limits (real Redis, real PostgreSQL and Temporal behind)', () => {
  let stack: Stack;
  let redis: { url: string; process: ChildProcess };
  const clients: Redis[] = [];
  before(async () => {
    [stack, redis] = await Promise.all([startStack(), startRedis()]);
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    redis?.process.kill('SIGKILL');
    await stack?.stop();
  });

  /** Another API instance: its own limiter objects and its own Redis connection, as a separate replica has. */
  const replica = (perIp: number, perTenant: number, keyPrefix: string) => {
    const client = new Redis(redis.url);
    clients.push(client);
    return createApp({ ...stack.deps, rateLimits: rateLimits({ perIpPerMinute: perIp, perTenantPerMinute: perTenant, redis: client, trustProxy: true, keyPrefix }) });
  };
  const get = (app: ReturnType<typeof createApp>, ip: string) => app.request('/v1/workflows', { headers: { 'x-forwarded-for': ip } });

  it('two API instances share one per-IP budget through Redis; past it, 429 problem+json with Retry-After and RateLimit headers', async () => {
    const [a, b] = [replica(5, 1000, 'ip-test'), replica(5, 1000, 'ip-test')];
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
    assert.equal((await a.request('/healthz', { headers: { 'x-forwarded-for': '203.0.113.7' } })).status, 200, 'probes are never limited');
  });

  it('a tenant has a budget of its own across instances', async () => {
    const [a, b] = [replica(1000, 3, 'tenant-test'), replica(1000, 3, 'tenant-test')];
    const statuses = [];
    for (const [i, app] of [a, b, a, b].entries()) statuses.push((await get(app, `192.0.2.${i}`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });
});

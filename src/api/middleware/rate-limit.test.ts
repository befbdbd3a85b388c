import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import type { ApiEnv } from '../env.js';
import { rateLimits } from './rate-limit.js';

function appWith(opts: { trustProxy: boolean; proxyHops?: number }) {
  const app = new Hono<ApiEnv>();
  const limits = rateLimits({ perIpPerMinute: 2, perTenantPerMinute: 1000, keyPrefix: `t${Math.random()}`, ...opts });
  app.use('*', limits.byIp);
  app.all('*', (c) => c.json({ ok: true }));
  return app;
}

const get = async (app: Hono<ApiEnv>, forwardedFor: string, path = '/v1/workflows') =>
  (await app.request(path, { headers: { 'x-forwarded-for': forwardedFor } })).status;

describe('rate limits per client IP behind proxies', () => {
  it('keys on the right-most X-Forwarded-For entry with one trusted proxy, so a forged left part does not get a fresh budget', async () => {
    const app = appWith({ trustProxy: true });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await get(app, `10.9.9.${i}, 198.51.100.${i}, 203.0.113.7`));
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    assert.equal(await get(app, '203.0.113.8'), 200, 'another client has its own budget');
  });

  it('with TRUST_PROXY_HOPS=2 takes the second entry from the right: what the outer proxy saw', async () => {
    const app = appWith({ trustProxy: true, proxyHops: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await get(app, `10.9.9.${i}, 203.0.113.7, 192.0.2.${i}`));
    assert.deepEqual(statuses, [200, 200, 429], 'a varying inner-proxy entry or forged left entry does not help');
    assert.equal(await get(app, '10.9.9.1, 203.0.113.9, 192.0.2.1'), 200, 'another client has its own budget');
  });

  it('ignores X-Forwarded-For without TRUST_PROXY and falls back to the connection for an entry that is not an IP', async () => {
    const untrusted = appWith({ trustProxy: false });
    assert.deepEqual(
      [
        await get(untrusted, '198.51.100.1'),
        await get(untrusted, '198.51.100.2'),
        await get(untrusted, '198.51.100.3'),
      ],
      [200, 200, 429],
    );
    const trusted = appWith({ trustProxy: true });
    assert.deepEqual(
      [await get(trusted, 'not-an-ip-1'), await get(trusted, 'not-an-ip-2'), await get(trusted, 'not-an-ip-3')],
      [200, 200, 429],
    );
  });

  it('limits /readyz and /metrics per IP like every other path; only /healthz is exempt', async () => {
    const app = appWith({ trustProxy: false });
    for (const path of ['/readyz', '/metrics']) {
      const limited = appWith({ trustProxy: false });
      assert.deepEqual(
        [await get(limited, '', path), await get(limited, '', path), await get(limited, '', path)],
        [200, 200, 429],
        path,
      );
    }
    assert.deepEqual(
      [await get(app, '', '/healthz'), await get(app, '', '/healthz'), await get(app, '', '/healthz')],
      [200, 200, 200],
    );
  });
});

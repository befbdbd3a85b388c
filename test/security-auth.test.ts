import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createApp } from '../src/api/app.js';
import { READINESS_CACHE_MS } from '../src/api/health.js';
import { createPool } from '../src/db/pool.js';
import { loadConfig } from '../src/shared/config.js';
import { mintToken } from '../src/shared/tokens.js';
import { waitFor } from './helpers/ports.js';
import { useStack } from './helpers/use-stack.js';

const SECRET = 'security-test-secret-that-is-long-enough';
const AUDIENCE = 'mini-zaps';
const TENANT = 'sec';

type OpenApiOperation = { security?: Record<string, string[]>[] };
type OpenApiDocument = {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
};

/** Runs a script of this repository with tsx, as `npm run …` would. */
function runScript(path: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', path, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('security: scopes per route, token rules, start-up refusals (real Temporal, real PostgreSQL)', () => {
  let app: ReturnType<typeof createApp>;
  const token = (scopes: string[]) => mintToken(SECRET, { tenant: TENANT, scopes, audience: AUDIENCE, ttl: '1h' });

  async function call(method: string, path: string, scopes: string[] | string, body?: unknown) {
    const bearer = typeof scopes === 'string' ? scopes : await token(scopes);
    const init: RequestInit = {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await app.request(path, init);
    const text = await res.text();
    const parsed: { code?: string; [k: string]: unknown } | undefined =
      text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
    return { status: res.status, body: parsed ?? {} };
  }

  const suite = useStack();
  before(async () => {
    app = createApp({
      ...suite.stack.deps,
      config: { ...suite.stack.deps.config, AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET, AUTH_AUDIENCE: AUDIENCE },
    });
    suite.receiver.on('/down', () => ({ status: 503, body: { error: 'down' } }));
    suite.receiver.on('/fixed', () => ({ status: 200, body: { fixed: true } }));
  });

  describe('scopes are declared with each route', () => {
    let doc: OpenApiDocument;
    before(async () => {
      doc = JSON.parse(await (await app.request('/openapi.json')).text());
    });

    const operations = () =>
      Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/v1/'))
        .flatMap(([path, ops]) =>
          Object.entries(ops).map(([method, op]) => ({ path, method, scopes: op.security?.[0]?.bearer ?? [] })),
        );
    const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'nonexistent');

    it('every /v1 route registered on the app is in /openapi.json with a bearer security requirement naming its scopes', () => {
      assert.deepEqual(doc.components?.securitySchemes?.bearer, {
        ...doc.components?.securitySchemes?.bearer,
        type: 'http',
        scheme: 'bearer',
      });
      const registered = new Set(
        app.routes
          .filter((r) => r.path.startsWith('/v1/') && r.method !== 'ALL')
          .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
      );
      assert.ok(registered.size >= 20, `found ${registered.size} routes`);
      const undeclared = [...registered].filter((key) => {
        const [method = '', path = ''] = key.split(' ');
        return !(doc.paths[path]?.[method]?.security?.[0]?.bearer ?? []).length;
      });
      assert.deepEqual(undeclared, [], 'routes without a declared scope');
    });

    it('a valid token without the declared scope gets 403 FORBIDDEN on every /v1 operation, before its handler runs', async () => {
      const none = await token([]);
      for (const op of operations()) {
        const res = await call(
          op.method.toUpperCase(),
          concrete(op.path),
          none,
          op.method === 'get' || op.method === 'delete' ? undefined : {},
        );
        assert.deepEqual([res.status, res.body.code], [403, 'FORBIDDEN'], `${op.method} ${op.path}`);
      }
    });

    it('a token with exactly the declared scopes passes the scope check on every /v1 operation', async () => {
      for (const op of operations()) {
        const res = await call(
          op.method.toUpperCase(),
          concrete(op.path),
          op.scopes,
          op.method === 'get' || op.method === 'delete' ? undefined : {},
        );
        assert.ok(
          res.status !== 401 && res.status !== 403,
          `${op.method} ${op.path}: ${res.status} ${JSON.stringify(res.body)}`,
        );
      }
    });

    it('keeps the scopes of before: reads need :read, writes :write, validate workflows:read, secrets secrets:write', () => {
      const scopesOf = (method: string, path: string) => doc.paths[path]?.[method]?.security?.[0]?.bearer;
      assert.deepEqual(scopesOf('get', '/v1/workflows/{id}/diagram'), ['workflows:read']);
      assert.deepEqual(scopesOf('put', '/v1/workflows/{id}'), ['workflows:write']);
      assert.deepEqual(scopesOf('post', '/v1/workflows/validate'), ['workflows:read']);
      assert.deepEqual(scopesOf('post', '/v1/workflows/{id}/runs'), ['runs:write']);
      assert.deepEqual(scopesOf('get', '/v1/dead-letters/groups'), ['runs:read']);
      assert.deepEqual(scopesOf('delete', '/v1/dead-letters/{id}'), ['runs:write']);
      assert.deepEqual(scopesOf('put', '/v1/secrets/{name}'), ['secrets:write']);
      assert.deepEqual(scopesOf('get', '/v1/schema/workflow'), ['workflows:read']);
    });
  });

  it('creating a webhook needs runs:write as well as workflows:write, since a webhook starts runs', async () => {
    const created = await call('POST', '/v1/workflows', ['workflows:write'], {
      name: 'hooked',
      steps: [{ id: 'ok', type: 'succeed' }],
    });
    assert.equal(created.status, 201);
    const id = String(created.body.id);
    const denied = await call('POST', `/v1/workflows/${id}/webhooks`, ['workflows:write', 'workflows:read'], {});
    assert.deepEqual([denied.status, denied.body.code], [403, 'FORBIDDEN']);
    assert.match(String(denied.body.detail), /runs:write/);
    assert.deepEqual(
      (await call('GET', `/v1/workflows/${id}/webhooks`, ['workflows:read'])).body.items,
      [],
      'no webhook was created',
    );
    const hook = await call('POST', `/v1/workflows/${id}/webhooks`, ['workflows:write', 'runs:write'], {});
    assert.equal(hook.status, 201);
    assert.equal(
      (await app.request(String(hook.body.url), { method: 'POST', body: '{}' })).status,
      202,
      'the webhook starts runs',
    );
    const doc: OpenApiDocument = JSON.parse(await (await app.request('/openapi.json')).text());
    assert.deepEqual(doc.paths['/v1/workflows/{id}/webhooks']?.post?.security, [
      { bearer: ['workflows:write', 'runs:write'] },
    ]);
  });

  describe('re-drive with a changed step', () => {
    const admin = ['admin'];
    const runsOnly = ['runs:read', 'runs:write'];
    const both = ['runs:write', 'workflows:write'];
    let workflowId = '';
    const step = (url: string) => ({
      id: 'call',
      type: 'http',
      config: { method: 'POST', url, headers: { authorization: "Bearer {{ $secret('crm_token') }}" } },
      retry: { maxAttempts: 1 },
    });

    async function deadLetter(): Promise<string> {
      const run = await call('POST', `/v1/workflows/${workflowId}/runs`, ['runs:write'], {});
      assert.equal(run.status, 202);
      return waitFor('a dead letter', async () => {
        const list = await call('GET', `/v1/dead-letters?workflowId=${workflowId}`, ['runs:read']);
        const items = Array.isArray(list.body.items) ? list.body.items : [];
        const found: unknown = items.find((d: { runId?: string }) => d.runId === run.body.runId);
        return typeof found === 'object' && found !== null && 'id' in found ? String(found.id) : undefined;
      });
    }

    before(async () => {
      assert.equal(
        (await call('PUT', '/v1/secrets/crm_token', ['secrets:write'], { value: 'crm-secret-value' })).status,
        200,
      );
      assert.equal(
        (await call('PUT', '/v1/secrets/other_token', ['secrets:write'], { value: 'other-secret-value' })).status,
        200,
      );
      const created = await call('POST', '/v1/workflows', admin, {
        name: 'redrive-guard',
        steps: [step(`${suite.receiver.url}/down`)],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      workflowId = String(created.body.id);
    });

    it('a plain re-drive needs only runs:write; with a changed config or version it also needs workflows:write (403 FORBIDDEN)', async () => {
      const dl = await deadLetter();
      for (const body of [{ config: { url: `${suite.receiver.url}/fixed` } }, { version: 1 }]) {
        const res = await call('POST', `/v1/dead-letters/${dl}/redrive`, runsOnly, body);
        assert.deepEqual([res.status, res.body.code], [403, 'FORBIDDEN'], JSON.stringify(body));
        assert.match(String(res.body.detail), /workflows:write/);
      }
      assert.equal(
        (await call('GET', `/v1/dead-letters/${dl}`, runsOnly)).body.status,
        'open',
        'the refused re-drives left it open',
      );
      assert.equal((await call('POST', `/v1/dead-letters/${dl}/redrive`, runsOnly, {})).status, 202);
    });

    it('a changed step may not reference secrets the failed step did not (400 REDRIVE_ADDS_SECRET), by config or by version', async () => {
      const dl = await deadLetter();
      const attempts = [
        { config: { headers: { authorization: "Bearer {{ $secret('other_token') }}" } } },
        { config: { body: { leak: '{{ $secret( \'crm_token\' ) & $secret("other_token") }}' } } },
        { config: { body: { leak: '{{ ($s := $secret; $s(trigger.name)) }}' } } },
        { config: { body: { leak: `{{ $eval("$secret('other_token')") }}` } } },
      ];
      for (const body of attempts) {
        const res = await call('POST', `/v1/dead-letters/${dl}/redrive`, both, body);
        assert.deepEqual([res.status, res.body.code], [400, 'REDRIVE_ADDS_SECRET'], JSON.stringify(body));
      }
      const v2 = await call('PUT', `/v1/workflows/${workflowId}`, ['workflows:write'], {
        name: 'redrive-guard',
        steps: [
          {
            ...step(`${suite.receiver.url}/fixed`),
            config: {
              method: 'POST',
              url: `${suite.receiver.url}/fixed`,
              headers: { authorization: 'Bearer {{ $secret("other_token") }}' },
            },
          },
        ],
      });
      assert.equal(v2.status, 200);
      const byVersion = await call('POST', `/v1/dead-letters/${dl}/redrive`, both, { version: v2.body.version });
      assert.deepEqual([byVersion.status, byVersion.body.code], [400, 'REDRIVE_ADDS_SECRET']);
      const kept = await call('POST', `/v1/dead-letters/${dl}/redrive`, both, {
        config: { url: `${suite.receiver.url}/fixed`, headers: { authorization: 'Bearer {{ $secret("crm_token") }}' } },
      });
      assert.equal(kept.status, 202, 'the same secret reference, re-spelt, and a new URL are accepted');
    });
  });

  it('/readyz answers from a check at most a second old, so repeated calls do not each reach PostgreSQL', async () => {
    const pool = createPool(suite.stack.config.DATABASE_URL ?? '', suite.stack.deps.logger);
    let checkouts = 0;
    pool.on('acquire', () => void checkouts++);
    try {
      const probed = createApp({ ...suite.stack.deps, pool });
      const t0 = Date.now();
      const answers = await Promise.all(Array.from({ length: 10 }, () => probed.request('/readyz')));
      for (let i = 0; i < 10; i++) answers.push(await probed.request('/readyz'));
      const spent = Date.now() - t0;
      assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
      // One check per started second of the calls: one on a quick machine, a few on a slow one.
      const most = Math.floor(spent / READINESS_CACHE_MS) + 1;
      assert.ok(checkouts >= 1 && checkouts <= most, `${checkouts} checks for 20 calls in ${spent} ms`);
      const earlier = checkouts;
      await new Promise((r) => setTimeout(r, READINESS_CACHE_MS + 100));
      assert.equal((await probed.request('/readyz')).status, 200);
      assert.equal(checkouts, earlier + 1, 'a second later the dependencies are checked again');
    } finally {
      await pool.end();
    }
  });

  it('AUTH_MODE=off is refused at start unless NODE_ENV is development or test, naming the variable', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'off' }),
      /AUTH_MODE: 'off' is refused unless NODE_ENV is development or test/,
    );
    assert.doesNotThrow(() => loadConfig({ NODE_ENV: 'development', AUTH_MODE: 'off' }));
    assert.doesNotThrow(() => loadConfig({ NODE_ENV: 'test', AUTH_MODE: 'off' }));
    const api = runScript('src/api/main.ts', [], {
      NODE_ENV: 'production',
      AUTH_MODE: 'off',
      DATABASE_URL: suite.stack.config.DATABASE_URL ?? '',
    });
    assert.notEqual(api.status, 0);
    assert.match(api.stderr, /AUTH_MODE: 'off' is refused/);
  });

  it('npm run token mints workflows:read and runs:read for one hour unless asked for more', async () => {
    const env = { AUTH_HS256_SECRET: SECRET, AUTH_AUDIENCE: AUDIENCE };
    const minted = runScript('scripts/token.ts', ['--tenant', TENANT], env);
    assert.equal(minted.status, 0, minted.stderr);
    const least = minted.stdout.trim();
    const claims = decodeJwt(least);
    assert.deepEqual([claims.scope, (claims.exp ?? 0) - (claims.iat ?? 0)], ['workflows:read runs:read', 3600]);
    assert.equal((await call('GET', '/v1/workflows', least)).status, 200);
    assert.equal(
      (await call('POST', '/v1/workflows', least, { name: 'x', steps: [{ id: 'a', type: 'succeed' }] })).status,
      403,
    );
    const admin = runScript('scripts/token.ts', ['--tenant', TENANT, '--scopes', 'admin'], env).stdout.trim();
    assert.equal(
      (await call('POST', '/v1/workflows', admin, { name: 'x', steps: [{ id: 'a', type: 'succeed' }] })).status,
      201,
    );
    const tooLong = runScript('scripts/token.ts', ['--ttl', '30d'], env);
    assert.notEqual(tooLong.status, 0, 'a token the API would refuse is not minted');
  });
});

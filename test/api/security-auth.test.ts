import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createApp } from '../../src/api/app.js';
import { READINESS_CACHE_MS } from '../../src/api/health.js';
import { createPool } from '../../src/db/pool.js';
import { loadConfig } from '../../src/shared/config.js';
import { mintToken } from '../../src/shared/tokens.js';
import { waitFor } from '../helpers/ports.js';
import { useStack } from '../helpers/use-stack.js';

const SECRET = 'security-test-secret-that-is-long-enough';
const AUDIENCE = 'mini-zaps';
const TENANT = 'sec';

type OpenApiOperation = { security?: Record<string, string[]>[] };
type OpenApiDocument = {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
};

/**
 * The scopes each /v1 operation needs, as decided here: a route added without a line, or a scope
 * changed in the code, fails the tests below.
 */
const SCOPES: Record<string, string[]> = {
  'POST /v1/workflows': ['workflows:write'],
  'GET /v1/workflows': ['workflows:read'],
  'POST /v1/workflows/validate': ['workflows:read'],
  'GET /v1/workflows/{id}': ['workflows:read'],
  'PUT /v1/workflows/{id}': ['workflows:write'],
  'DELETE /v1/workflows/{id}': ['workflows:write'],
  'GET /v1/workflows/{id}/versions/{version}': ['workflows:read'],
  'GET /v1/workflows/{id}/diagram': ['workflows:read'],
  'POST /v1/workflows/{id}/webhooks': ['workflows:write', 'runs:write'],
  'GET /v1/workflows/{id}/webhooks': ['workflows:read'],
  'DELETE /v1/workflows/{id}/webhooks/{hookId}': ['workflows:write'],
  'GET /v1/schema/workflow': ['workflows:read'],
  'POST /v1/workflows/{id}/runs': ['runs:write'],
  'GET /v1/runs': ['runs:read'],
  'GET /v1/runs/{id}': ['runs:read'],
  'POST /v1/runs/{id}/events/{name}': ['runs:write'],
  'POST /v1/events': ['runs:write'],
  'GET /v1/approvals': ['runs:read'],
  'POST /v1/runs/{id}/cancel': ['runs:write'],
  'POST /v1/runs/{id}/terminate': ['admin'],
  'POST /v1/runs/{id}/rerun': ['runs:write'],
  'POST /v1/runs/{id}/reset': ['runs:write'],
  'POST /v1/workflows/{id}/versions/{version}/migrate': ['runs:write'],
  'POST /v1/runs/rerun': ['runs:write'],
  'POST /v1/workflows/{id}/triggers': ['workflows:write', 'runs:write'],
  'GET /v1/workflows/{id}/triggers': ['workflows:read'],
  'GET /v1/triggers/{id}': ['workflows:read'],
  'PATCH /v1/triggers/{id}': ['workflows:write', 'runs:write'],
  'DELETE /v1/triggers/{id}': ['workflows:write', 'runs:write'],
  'POST /v1/triggers/{id}/pause': ['workflows:write', 'runs:write'],
  'POST /v1/triggers/{id}/resume': ['workflows:write', 'runs:write'],
  'POST /v1/triggers/{id}/run': ['runs:write'],
  'POST /v1/triggers/{id}/backfill': ['runs:write'],
  'GET /v1/triggers/{id}/dead-letters': ['runs:read'],
  'GET /v1/triggers/{id}/dead-letters/{deadLetterId}': ['runs:read'],
  'DELETE /v1/triggers/{id}/dead-letters/{deadLetterId}': ['runs:write'],
  'POST /v1/triggers/{id}/dead-letters/{deadLetterId}/redrive': ['runs:write'],
  'GET /v1/dead-letters': ['runs:read'],
  'GET /v1/dead-letters/groups': ['runs:read'],
  'POST /v1/dead-letters/redrive': ['runs:write'],
  'GET /v1/dead-letters/{id}': ['runs:read'],
  'DELETE /v1/dead-letters/{id}': ['runs:write'],
  'POST /v1/dead-letters/{id}/redrive': ['runs:write'],
  'PUT /v1/secrets/{name}': ['secrets:write'],
  'DELETE /v1/secrets/{name}': ['secrets:write'],
  'GET /v1/secrets': ['secrets:write'],
  'POST /v1/secret-stores': ['admin'],
  'GET /v1/secret-stores': ['admin'],
  'GET /v1/secret-stores/{name}': ['admin'],
  'PUT /v1/secret-stores/{name}': ['admin'],
  'DELETE /v1/secret-stores/{name}': ['admin'],
  'POST /v1/secret-stores/{name}/test': ['admin'],
  'POST /v1/connections': ['workflows:write'],
  'GET /v1/connections': ['workflows:read'],
  'GET /v1/connections/{name}': ['workflows:read'],
  'PUT /v1/connections/{name}': ['workflows:write'],
  'DELETE /v1/connections/{name}': ['workflows:write'],
  'POST /v1/connections/{name}/test': ['workflows:write'],
  'GET /v1/connectors': ['workflows:read'],
  'POST /v1/steps/test': ['runs:write', 'workflows:read'],
  'PUT /v1/admin/tenants/{tenant}/topics': ['operator'],
  'GET /v1/admin/tenants/{tenant}/topics': ['operator'],
  'GET /v1/audit': ['admin'],
  'GET /v1/settings': ['admin'],
  'PUT /v1/settings': ['admin'],
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

  describe('scopes per route, as the table above says (written here, not read from the app)', () => {
    let doc: OpenApiDocument;
    before(async () => {
      doc = JSON.parse(await (await app.request('/openapi.json')).text());
    });

    const operations = () =>
      Object.entries(SCOPES).map(([key, scopes]) => {
        const [method = '', path = ''] = key.split(' ');
        return { method, path, scopes };
      });
    const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'nonexistent');
    const send = (op: { method: string; path: string }, scopes: string[] | string) =>
      call(op.method, concrete(op.path), scopes, op.method === 'GET' || op.method === 'DELETE' ? undefined : {});

    it('every /v1 route the app registers is in the table, and every route of the table is registered', () => {
      const registered = new Set(
        app.routes
          .filter((r) => r.path.startsWith('/v1/') && r.method !== 'ALL')
          .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
      );
      assert.deepEqual([...registered].filter((key) => !(key in SCOPES)).sort(), [], 'routes missing from the table');
      assert.deepEqual(
        Object.keys(SCOPES).filter((key) => !registered.has(key)),
        [],
        'table routes the app does not have',
      );
    });

    it('/openapi.json documents the scopes of the table, with a bearer scheme', () => {
      assert.deepEqual(doc.components?.securitySchemes?.bearer, {
        ...doc.components?.securitySchemes?.bearer,
        type: 'http',
        scheme: 'bearer',
      });
      const documented = (method: string, path: string) =>
        doc.paths[path]?.[method.toLowerCase()]?.security?.[0]?.bearer ?? [];
      for (const op of operations())
        assert.deepEqual(documented(op.method, op.path), op.scopes, `${op.method} ${op.path}`);
    });

    it('a token lacking any scope of the table gets 403 FORBIDDEN on every /v1 operation, before its handler runs', async () => {
      const none = await token([]);
      for (const op of operations()) {
        const res = await send(op, none);
        assert.deepEqual([res.status, res.body.code], [403, 'FORBIDDEN'], `${op.method} ${op.path}`);
        // Every scope is needed: any one missing is refused as well.
        for (const missing of op.scopes.length > 1 ? op.scopes : []) {
          const partial = await send(
            op,
            op.scopes.filter((s) => s !== missing),
          );
          const where = `${op.method} ${op.path} without ${missing}`;
          assert.deepEqual([partial.status, partial.body.code], [403, 'FORBIDDEN'], where);
        }
      }
    });

    it("a token with exactly the table's scopes passes on every /v1 operation, and never meets a 5xx", async () => {
      for (const op of operations()) {
        const res = await send(op, op.scopes);
        assert.ok(
          res.status !== 401 && res.status !== 403 && res.status < 500,
          `${op.method} ${op.path}: ${res.status} ${JSON.stringify(res.body)}`,
        );
      }
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
    const api = runScript('src/main/api.ts', [], {
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

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mintToken } from '../../src/shared/tokens.js';
import { useStack } from '../helpers/use-stack.js';

const SECRET = 'audit-test-secret-that-is-long-enough';
const SECRET_VALUE = 'sk-live-audit-must-never-hold-this';

interface AuditEvent {
  id: string;
  at: string;
  subject: string;
  method: string;
  route: string;
  targetId: string | null;
  status: number;
  requestId: string;
  fields: string[];
}

describe('the audit trail (real PostgreSQL, real Temporal, HS256 tokens)', () => {
  const auth: Record<string, Record<string, string>> = {};
  const suite = useStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } });
  const as = (who: string, method: string, path: string, body?: unknown, requestId?: string) =>
    suite.stack.call(method, path, body, { ...auth[who], ...(requestId ? { 'x-request-id': requestId } : {}) });
  const list = async (who: string, query = ''): Promise<{ items: AuditEvent[]; nextCursor: string | null }> => {
    const res = await as(who, 'GET', `/v1/audit${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };

  let startedAt = '';
  let workflowId = '';
  before(async () => {
    const mint = async (tenant: string, subject: string, scopes: string[]) => ({
      authorization: `Bearer ${await mintToken(SECRET, { tenant, subject, scopes })}`,
    });
    auth.ann = await mint('acme', 'ann@acme.example', ['admin']);
    auth.bob = await mint('acme', 'bob@acme.example', ['admin']);
    auth.reader = await mint('acme', 'rita@acme.example', ['workflows:read', 'runs:read', 'workflows:write']);
    auth.globex = await mint('globex', 'gil@globex.example', ['admin']);

    startedAt = new Date().toISOString();
    const definition = { name: 'audited', steps: [{ id: 'done', type: 'succeed' }] };
    const created = await as('ann', 'POST', '/v1/workflows', definition, 'req-create');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    workflowId = created.body.id;
    const secret = await as('ann', 'PUT', '/v1/secrets/api_key', { value: SECRET_VALUE }, 'req-secret');
    assert.equal(secret.status, 200, JSON.stringify(secret.body));
    const saved = await as('bob', 'PUT', `/v1/workflows/${workflowId}`, { ...definition, description: 'v2' }, 'req-v2');
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.equal((await as('bob', 'DELETE', '/v1/workflows/wf-missing', undefined, 'req-missing')).status, 404);
    assert.equal((await as('reader', 'PUT', '/v1/secrets/stolen', { value: 'x' }, 'req-refused')).status, 403);
    // Not audited: a run start (the run index has it), a validation (nothing stored), reads, no route.
    assert.equal((await as('ann', 'POST', `/v1/workflows/${workflowId}/runs`, { email: 'a@b.c' })).status, 202);
    assert.equal((await as('ann', 'POST', '/v1/workflows/validate', definition)).status, 200);
    assert.equal((await as('ann', 'GET', `/v1/workflows/${workflowId}`)).status, 200);
    assert.equal((await as('ann', 'POST', '/v1/no-such-route', { a: 1 })).status, 404);
    assert.equal((await as('globex', 'PUT', '/v1/secrets/globex_key', { value: 'g' }, 'req-globex')).status, 200);
  });

  it('GET /v1/audit lists the calls made, newest first, each with its subject, route, target, outcome, request id and field names', async () => {
    const { items } = await list('ann');
    assert.deepEqual(
      items.map((e) => [e.requestId, e.subject, `${e.method} ${e.route}`, e.targetId, e.status, e.fields]),
      [
        ['req-refused', 'rita@acme.example', 'PUT /v1/secrets/:name', 'stolen', 403, ['value']],
        ['req-missing', 'bob@acme.example', 'DELETE /v1/workflows/:id', 'wf-missing', 404, []],
        ['req-v2', 'bob@acme.example', 'PUT /v1/workflows/:id', workflowId, 200, ['name', 'steps', 'description']],
        ['req-secret', 'ann@acme.example', 'PUT /v1/secrets/:name', 'api_key', 200, ['value']],
        ['req-create', 'ann@acme.example', 'POST /v1/workflows', workflowId, 201, ['name', 'steps']],
      ],
    );
    for (const e of items) assert.ok(Date.parse(e.at) >= Date.parse(startedAt) - 1000, e.at);
  });

  it('no value a call sent is kept: the secret is in neither the answer nor the table', async () => {
    assert.ok(!JSON.stringify(await list('ann')).includes(SECRET_VALUE));
    const { rows } = await suite.stack.pool.query<{ row: string }>(
      'SELECT audit_events::text AS row FROM audit_events',
    );
    assert.ok(rows.length >= 6);
    for (const { row } of rows) assert.ok(!row.includes(SECRET_VALUE), row);
  });

  it('filters by subject, target and time, and pages with a cursor', async () => {
    const bob = await list('bob', `?subject=${encodeURIComponent('bob@acme.example')}`);
    assert.deepEqual(
      bob.items.map((e) => e.requestId),
      ['req-missing', 'req-v2'],
    );
    const target = await list('ann', `?target=${workflowId}`);
    assert.deepEqual(
      target.items.map((e) => e.requestId),
      ['req-v2', 'req-create'],
    );
    assert.equal((await list('ann', `?until=${encodeURIComponent(startedAt)}`)).items.length, 0);
    const since = new Date(Date.now() + 60_000).toISOString();
    assert.equal((await list('ann', `?since=${encodeURIComponent(since)}`)).items.length, 0);

    const whole = (await list('ann')).items.map((e) => e.id);
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: { items: AuditEvent[]; nextCursor: string | null } = await list(
        'ann',
        `?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.ok(page.items.length <= 2);
      paged.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(paged, whole);
    assert.equal((await as('ann', 'GET', '/v1/audit?cursor=not-a-cursor')).body.code, 'INVALID_CURSOR');
  });

  it('a caller without the admin scope gets 403; a tenant sees only its own events', async () => {
    const refused = await as('reader', 'GET', '/v1/audit');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'FORBIDDEN');
    assert.deepEqual(
      (await list('globex')).items.map((e) => e.requestId),
      ['req-globex'],
    );
    const doc = await suite.stack.call('GET', '/openapi.json');
    assert.deepEqual(doc.body.paths['/v1/audit'].get.security, [{ bearer: ['admin'] }]);
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { sign } from '../../src/api/webhooks.js';
import { mintToken } from '../../src/shared/tokens.js';
import { waitFor } from '../helpers/ports.js';
import { useStack } from '../helpers/use-stack.js';

const SECRET = 'tenancy-test-secret-that-is-long-enough';

describe('tenancy (real Temporal, real PostgreSQL, HS256 tokens)', () => {
  const auth: Record<string, Record<string, string>> = {};
  const suite = useStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } });
  before(async () => {
    for (const tenant of ['acme', 'globex'])
      auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
  });

  const as = (tenant: string, method: string, path: string, body?: unknown) =>
    suite.stack.call(method, path, body, auth[tenant]);

  it("a tenant never sees another tenant's workflows, runs or dead letters: their ids answer 404 and they are absent from lists", async () => {
    suite.receiver.on('/down', () => ({ status: 404 }));
    const created = await as('acme', 'POST', '/v1/workflows', {
      name: 'acme only',
      steps: [{ id: 'call', type: 'http', config: { url: `${suite.receiver.url}/down` } }],
    });
    assert.equal(created.status, 201);
    const wf = created.body.id;
    const runId = (await as('acme', 'POST', `/v1/workflows/${wf}/runs`, {})).body.runId;
    const dl = await waitFor(
      'the dead letter',
      async () => (await as('acme', 'GET', '/v1/dead-letters')).body.items[0]?.id,
    );

    for (const [method, path, body] of [
      ['GET', `/v1/workflows/${wf}`],
      ['GET', `/v1/workflows/${wf}/versions/1`],
      ['GET', `/v1/workflows/${wf}/diagram`],
      ['PUT', `/v1/workflows/${wf}`, { name: 'hijack', steps: [{ id: 'a', type: 'succeed' }] }],
      ['DELETE', `/v1/workflows/${wf}`],
      ['POST', `/v1/workflows/${wf}/runs`, {}],
      ['GET', `/v1/runs/${runId}`],
      ['POST', `/v1/runs/${runId}/cancel`],
      ['POST', `/v1/runs/${runId}/events/x`, {}],
      ['GET', `/v1/dead-letters/${dl}`],
      ['POST', `/v1/dead-letters/${dl}/redrive`, {}],
      ['DELETE', `/v1/dead-letters/${dl}`],
    ] as const) {
      const res = await as('globex', method, path, body);
      assert.equal(res.status, 404, `${method} ${path} answered ${res.status}`);
    }
    assert.equal((await as('globex', 'GET', '/v1/workflows')).body.items.length, 0);
    assert.equal((await as('globex', 'GET', '/v1/runs')).body.items.length, 0);
    assert.equal((await as('globex', 'GET', '/v1/dead-letters')).body.items.length, 0);
    assert.equal((await as('globex', 'GET', '/v1/dead-letters/groups')).body.items.length, 0);
    const bulk = await as('globex', 'POST', '/v1/dead-letters/redrive', {});
    assert.equal(bulk.body.matched, 0);

    assert.equal((await as('acme', 'PUT', '/v1/secrets/acme_key', { value: 'acme-only-value' })).status, 200);
    assert.deepEqual(
      (await as('globex', 'GET', '/v1/secrets')).body.items,
      [],
      "another tenant's secrets are not listed",
    );
    assert.equal((await as('globex', 'DELETE', '/v1/secrets/acme_key')).status, 404);
    assert.equal((await as('acme', 'GET', `/v1/workflows/${wf}`)).status, 200, 'the owner still sees it');
    assert.equal(
      (await as('acme', 'GET', `/v1/dead-letters/${dl}`)).body.status,
      'open',
      "the other tenant's attempts changed nothing",
    );
    const described = await suite.stack.client.workflow.getHandle(runId).describe();
    assert.equal((await as('globex', 'POST', `/v1/workflows/${wf}/webhooks`, {})).status, 404);
    assert.deepEqual(
      described.searchAttributes.MiniZapsTenant,
      ['acme'],
      'runs carry their tenant as a search attribute',
    );
  });

  it('webhooks: a token triggers its workflow without a bearer token; listed without values; revoked → 404; HMAC signatures checked', async () => {
    const wf = (
      await as('acme', 'POST', '/v1/workflows', {
        name: 'hooked',
        steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger' } }],
      })
    ).body.id;
    const hook = await as('acme', 'POST', `/v1/workflows/${wf}/webhooks`, {});
    assert.equal(hook.status, 201);
    assert.match(hook.body.token, /^whk_/);
    const fired = await suite.stack.call('POST', hook.body.url, { order: 7 });
    assert.equal(fired.status, 202);
    const run = await waitFor('the hooked run', async () => {
      const r = await as('acme', 'GET', `/v1/runs/${fired.body.runId}`);
      return r.body.status === 'completed' ? r.body : undefined;
    });
    assert.deepEqual(run.result, { order: 7 });
    const listed = await as('acme', 'GET', `/v1/workflows/${wf}/webhooks`);
    assert.equal(listed.body.items.length, 1);
    assert.ok(!JSON.stringify(listed.body).includes(hook.body.token), 'tokens are never listed');
    assert.equal((await suite.stack.call('POST', '/hooks/whk_unknown', {})).status, 404);
    assert.equal((await as('acme', 'DELETE', `/v1/workflows/${wf}/webhooks/${hook.body.id}`)).status, 204);
    assert.equal((await suite.stack.call('POST', hook.body.url, {})).status, 404, 'a revoked token answers 404');

    const signed = (await as('acme', 'POST', `/v1/workflows/${wf}/webhooks`, { signed: true })).body;
    assert.match(signed.signingSecret, /^whsec_/);
    const body = JSON.stringify({ order: 8 });
    const post = (headers: Record<string, string>) => suite.stack.call('POST', signed.url, body, headers);
    assert.equal((await post({})).status, 401, 'no signature');
    assert.equal((await post({ 'x-signature': sign('whsec_wrong', body) })).status, 401, 'wrong secret');
    assert.equal(
      (await post({ 'x-signature': sign(signed.signingSecret, body, Math.floor(Date.now() / 1000) - 3600) })).status,
      401,
      'a replayed old body',
    );
    assert.equal(
      (await post({ 'x-signature': sign(signed.signingSecret, '{"order":9}') })).status,
      401,
      'a changed body',
    );
    const ok = await post({ 'x-signature': sign(signed.signingSecret, body) });
    assert.equal(ok.status, 202);
    assert.equal(ok.body.runId.length > 0, true);
  });
});

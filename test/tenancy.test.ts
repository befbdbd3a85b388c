import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../src/shared/tokens.js';
import { waitFor } from './helpers/ports.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { startStack, type Stack } from './helpers/stack.js';

const SECRET = 'tenancy-test-secret-that-is-long-enough';

describe('tenancy (real Temporal, real PostgreSQL, HS256 tokens)', () => {
  let stack: Stack;
  let receiver: Receiver;
  const auth: Record<string, Record<string, string>> = {};
  before(async () => {
    [stack, receiver] = await Promise.all([startStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } }), startReceiver()]);
    for (const tenant of ['acme', 'globex']) auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const as = (tenant: string, method: string, path: string, body?: unknown) => stack.call(method, path, body, auth[tenant]);

  it("a tenant never sees another tenant's workflows, runs or dead letters: their ids answer 404 and they are absent from lists", async () => {
    receiver.on('/down', () => ({ status: 404 }));
    const created = await as('acme', 'POST', '/v1/workflows', { name: 'acme only', steps: [{ id: 'call', type: 'http', config: { url: `${receiver.url}/down` } }] });
    assert.equal(created.status, 201);
    const wf = created.body.id;
    const runId = (await as('acme', 'POST', `/v1/workflows/${wf}/runs`, {})).body.runId;
    const dl = await waitFor('the dead letter', async () => (await as('acme', 'GET', '/v1/dead-letters')).body.items[0]?.id);

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

    assert.equal((await as('acme', 'GET', `/v1/workflows/${wf}`)).status, 200, 'the owner still sees it');
    assert.equal((await as('acme', 'GET', `/v1/dead-letters/${dl}`)).body.status, 'open', "the other tenant's attempts changed nothing");
    const described = await stack.client.workflow.getHandle(runId).describe();
    assert.deepEqual(described.searchAttributes.MiniZapsTenant, ['acme'], 'runs carry their tenant as a search attribute');
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mintToken } from '../../src/shared/tokens.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { useStack } from '../helpers/use-stack.js';

const SECRET = 'kafka-topics-test-secret-that-is-long-enough';

describe('Kafka topics per tenant (real PostgreSQL, real Temporal, HS256 tokens)', () => {
  const auth: Record<string, Record<string, string>> = {};
  const suite = useStack({
    env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET, KAFKA_TOPIC_GRANTS: 'acme=partners.feed,globex=other.*' },
  });
  before(async () => {
    const mint = async (tenant: string, scopes: string[]) => ({
      authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes })}`,
    });
    auth.acme = await mint('acme', ['admin']);
    auth.globex = await mint('globex', ['admin']);
    auth.operator = await mint('ops', ['operator']);
  });
  const as = (who: string, method: string, path: string, body?: unknown) =>
    suite.stack.call(method, path, body, auth[who]);

  let workflowId = '';
  before(async () => {
    const created = await as('acme', 'POST', '/v1/workflows', {
      name: 'consumer',
      steps: [{ id: 'a', type: 'succeed' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    workflowId = created.body.id;
  });
  const addTrigger = (topic: string) =>
    as('acme', 'POST', `/v1/workflows/${workflowId}/triggers`, { type: 'kafka', topic });

  const assertForbidden = (res: { status: number; body: { code: string; detail: string } }, topic: string) => {
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.code, 'KAFKA_TOPIC_FORBIDDEN');
    assert.ok(res.body.detail.includes(`'${topic}'`), res.body.detail);
  };

  it("a trigger takes a topic under the tenant's own prefix; another tenant's topic or an unprefixed one is refused, on creation and on update", async () => {
    const own = await addTrigger('acme.orders');
    assert.equal(own.status, 201, JSON.stringify(own.body));
    assertForbidden(await addTrigger('globex.orders'), 'globex.orders');
    assertForbidden(await addTrigger('orders'), 'orders');
    assertForbidden(await addTrigger('acme.'), 'acme.');
    assertForbidden(
      await as('acme', 'PATCH', `/v1/triggers/${own.body.id}`, { topic: 'globex.orders' }),
      'globex.orders',
    );
    const shown = await as('acme', 'GET', `/v1/triggers/${own.body.id}`);
    assert.equal(shown.body.topic, 'acme.orders');
  });

  it('a grant (by the API, or by KAFKA_TOPIC_GRANTS) lets a tenant use a topic beyond its prefix; only an operator grants', async () => {
    assertForbidden(await addTrigger('globex.shared'), 'globex.shared');
    const byAdmin = await as('acme', 'PUT', '/v1/admin/tenants/acme/topics', { topics: ['globex.shared'] });
    assert.equal(byAdmin.status, 403, 'a tenant admin cannot grant itself topics');
    const granted = await as('operator', 'PUT', '/v1/admin/tenants/acme/topics', {
      topics: ['globex.shared', 'feeds.*'],
    });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.deepEqual((await as('operator', 'GET', '/v1/admin/tenants/acme/topics')).body.topics, [
      'feeds.*',
      'globex.shared',
    ]);
    for (const topic of ['globex.shared', 'feeds.eu', 'partners.feed'])
      assert.equal((await addTrigger(topic)).status, 201, topic);
    assertForbidden(await addTrigger('partners.other'), 'partners.other');
    // The grant is acme's only; globex's configured grant is not acme's either.
    const globexWf = await as('globex', 'POST', '/v1/workflows', { name: 'g', steps: [{ id: 'a', type: 'succeed' }] });
    const globexTrigger = await as('globex', 'POST', `/v1/workflows/${globexWf.body.id}/triggers`, {
      type: 'kafka',
      topic: 'feeds.eu',
    });
    assertForbidden(globexTrigger, 'feeds.eu');
    assertForbidden(await addTrigger('other.x'), 'other.x');

    await as('operator', 'PUT', '/v1/admin/tenants/acme/topics', { topics: [] });
    assertForbidden(await addTrigger('globex.shared'), 'globex.shared');
  });

  it('a dead-letter topic is refused even when granted, or under the own prefix; a grant of one is refused', async () => {
    const refused = await as('operator', 'PUT', '/v1/admin/tenants/acme/topics', { topics: ['globex.orders.dlq'] });
    assertForbidden(refused, 'globex.orders.dlq');
    assert.equal((await as('operator', 'PUT', '/v1/admin/tenants/acme/topics', { topics: ['globex.*'] })).status, 200);
    assertForbidden(await addTrigger('globex.orders.dlq'), 'globex.orders.dlq');
    assertForbidden(await addTrigger('acme.orders.dlq'), 'acme.orders.dlq');
    await as('operator', 'PUT', '/v1/admin/tenants/acme/topics', { topics: [] });
  });

  it('a kafka step on a foreign topic is refused at save when the topic is written out, and fails its run when templated', async () => {
    const connection = await as('acme', 'POST', '/v1/connections', {
      name: 'events',
      type: 'kafka',
      config: { brokers: [`127.0.0.1:${await freePort()}`] },
    });
    assert.equal(connection.status, 201, JSON.stringify(connection.body));
    const step = (topic: string) => ({
      name: 'producer',
      steps: [{ id: 'send', type: 'kafka', connection: 'events', config: { topic, value: { a: 1 } } }],
    });
    const written = await as('acme', 'POST', '/v1/workflows', step('globex.orders'));
    assertForbidden(written, 'globex.orders');
    assert.ok(written.body.detail.startsWith('/steps/0/config/topic'), written.body.detail);
    const dlq = await as('acme', 'POST', '/v1/workflows', step('acme.orders.dlq'));
    assertForbidden(dlq, 'acme.orders.dlq');

    const templated = await as('acme', 'POST', '/v1/workflows', step('{{ trigger.topic }}'));
    assert.equal(templated.status, 201, JSON.stringify(templated.body));
    const started = await as('acme', 'POST', `/v1/workflows/${templated.body.id}/runs`, { topic: 'globex.orders' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const run = await waitFor('the run to fail', async () => {
      const shown = await as('acme', 'GET', `/v1/runs/${started.body.runId}`);
      return shown.body.status === 'failed' ? shown.body : undefined;
    });
    const send = run.steps.find((s: { id: string }) => s.id === 'send');
    assert.equal(send.error.code, 'KAFKA_TOPIC_FORBIDDEN', JSON.stringify(send.error));
    assert.equal(send.attempts, 1, 'a forbidden topic is not retried');

    const tested = await as('acme', 'POST', '/v1/steps/test', {
      step: step('{{ trigger.topic }}').steps[0],
      context: { trigger: { topic: 'globex.orders' } },
    });
    assert.equal(tested.body.error?.code, 'KAFKA_TOPIC_FORBIDDEN', JSON.stringify(tested.body));
  });
});

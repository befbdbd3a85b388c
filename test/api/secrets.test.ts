import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaksIn } from '../helpers/history.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

const VALUE = 'sk_live_9f8e7d6c5b4a39281706';

describe('secrets by reference (real Temporal, real PostgreSQL)', () => {
  const logLines: string[] = [];
  const suite = useStack({ logLines });

  it('are write-only: stored, replaced and listed by name, never shown', async () => {
    assert.deepEqual((await suite.stack.call('PUT', '/v1/secrets/crm_token', { value: VALUE })).body, {
      name: 'crm_token',
      created: true,
    });
    assert.deepEqual((await suite.stack.call('PUT', '/v1/secrets/crm_token', { value: VALUE })).body, {
      name: 'crm_token',
      created: false,
    });
    const list = await suite.stack.call('GET', '/v1/secrets');
    assert.deepEqual(
      list.body.items.map((s: { name: string; keyId: string }) => [s.name, s.keyId]),
      [['crm_token', 'test']],
    );
    assert.ok(!JSON.stringify(list.body).includes(VALUE));
    assert.equal((await suite.stack.call('GET', '/v1/secrets/crm_token')).status, 404);
    const stored = await suite.stack.pool.query<{ sealed: string }>(
      "SELECT sealed FROM secrets WHERE name = 'crm_token'",
    );
    assert.ok(!stored.rows[0]?.sealed.includes(VALUE), 'sealed at rest');
  });

  it('reach only the activity that uses them: not history, not run answers, not dead letters, not errors', async () => {
    await suite.stack.call('PUT', '/v1/secrets/crm_token', { value: VALUE });
    suite.receiver.on('/echo', (req) => ({
      status: 200,
      body: { auth: req.headers.authorization, body: JSON.parse(req.body) },
    }));
    suite.receiver.on(`/reject/${VALUE}`, () => ({ status: 404, body: { error: `no such token ${VALUE}` } }));
    const id = await createWorkflow(suite.stack, {
      name: 'uses a secret',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: {
            method: 'POST',
            url: `${suite.receiver.url}/echo`,
            headers: { authorization: "Bearer {{ $secret('crm_token') }}" },
            body: { token: "{{ $secret('crm_token') }}" },
          },
        },
        { id: 'fails', type: 'http', config: { url: `${suite.receiver.url}/reject/{{ $secret('crm_token') }}` } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const dl = await waitFor('the dead letter', async () =>
      (await suite.stack.call('GET', '/v1/dead-letters')).body.items.find((d: { runId: string }) => d.runId === runId),
    );

    assert.equal(
      suite.receiver.requestsTo('/echo')[0]?.headers.authorization,
      `Bearer ${VALUE}`,
      'the receiver got the real value',
    );
    const run = await suite.stack.call('GET', `/v1/runs/${runId}`);
    assert.deepEqual(run.body.steps[0].output.body, { auth: 'Bearer [redacted]', body: { token: '[redacted]' } });
    // The raw client's history: payload bytes as stored, decoded and searched in every form by leaksIn.
    const history = await suite.stack.rawClient.workflow.getHandle(runId).fetchHistory();
    assert.deepEqual(leaksIn(history, VALUE), []);
    // The search sees inside payloads: the step's URL, which its input payload holds, is found.
    assert.ok(leaksIn(history, `${suite.receiver.url}/echo`).length > 0, 'the search reaches payload bytes');
    for (const [where, text] of [
      ['run', JSON.stringify(run.body)],
      ['dead letter', JSON.stringify(dl)],
    ] as const) {
      assert.ok(!text.includes(VALUE), `the secret leaked into the ${where}`);
    }
    assert.equal(dl.errorCode, 'HTTP_404');
    const logs = logLines.join('');
    assert.match(logs, /step attempt failed/, 'the failing step was logged');
    assert.ok(!logs.includes(VALUE), 'the secret leaked into the logs');
  });

  it('a missing secret fails the step clearly', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'missing secret',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${suite.receiver.url}/echo`, headers: { x: "{{ $secret('nope') }}" } },
        },
      ],
    });
    const run = await waitForEnd(suite.stack, await trigger(suite.stack, id));
    assert.equal(run.error.code, 'SECRET_NOT_FOUND');
  });
});

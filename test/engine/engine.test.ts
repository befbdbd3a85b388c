import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

describe('the engine end to end (real Temporal dev server, real PostgreSQL)', () => {
  const suite = useStack();

  it('runs delay → http → transform and shows every step with its output', async () => {
    suite.receiver.on('/contacts', (req) => ({ status: 201, body: { id: 42, echo: JSON.parse(req.body) } }));
    const id = await createWorkflow(suite.stack, {
      name: 'linear',
      steps: [
        { id: 'wait', type: 'delay', config: { duration: '1s' } },
        {
          id: 'crm',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/contacts`, body: { email: '{{ trigger.email }}' } },
        },
        {
          id: 'shape',
          type: 'transform',
          config: { expression: "{ 'contact': steps.crm.output.body.id, 'who': trigger.email }" },
        },
      ],
    });
    const runId = await trigger(suite.stack, id, { email: 'ada@example.com' });
    const run = await waitForEnd(suite.stack, runId);

    assert.equal(run.status, 'completed');
    assert.deepEqual(run.result, { contact: 42, who: 'ada@example.com' });
    assert.deepEqual(
      run.steps.map((s: { id: string; status: string }) => [s.id, s.status]),
      [
        ['wait', 'completed'],
        ['crm', 'completed'],
        ['shape', 'completed'],
      ],
    );
    const crm = run.steps.find((s: { id: string }) => s.id === 'crm');
    assert.equal(crm.output.status, 201);
    assert.deepEqual(crm.output.body, { id: 42, echo: { email: 'ada@example.com' } });
    assert.equal(crm.attempts, 1);
    assert.ok(
      Date.parse(run.steps[0].endedAt) - Date.parse(run.steps[0].startedAt) >= 1000,
      'the delay waited a second',
    );
    assert.equal(suite.receiver.requestsTo('/contacts')[0]?.headers['idempotency-key'], `${runId}:crm`);
  });

  it('retries an http step that answers 500 twice and completes on the third attempt', async () => {
    suite.receiver.on('/flaky', (_req, n) =>
      n <= 2 ? { status: 500, body: { error: 'boom' } } : { status: 200, body: { ok: n } },
    );
    const id = await createWorkflow(suite.stack, {
      name: 'flaky',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${suite.receiver.url}/flaky` },
          retry: { maxAttempts: 5, initialInterval: '100ms', backoffCoefficient: 1 },
        },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const run = await waitForEnd(suite.stack, runId);

    assert.equal(run.status, 'completed');
    assert.equal(run.steps[0].attempts, 3);
    assert.deepEqual(run.result.body, { ok: 3 });
    const keys = new Set(suite.receiver.requestsTo('/flaky').map((r) => r.headers['idempotency-key']));
    assert.deepEqual([...keys], [`${runId}:call`], 'the idempotency key is stable across attempts');
  });

  it('fails a step on 404 at once, without retries', async () => {
    suite.receiver.on('/missing', () => ({ status: 404, body: { error: 'no such thing' } }));
    const id = await createWorkflow(suite.stack, {
      name: 'not found',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${suite.receiver.url}/missing` },
          retry: { maxAttempts: 5, initialInterval: '100ms' },
        },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const run = await waitForEnd(suite.stack, runId);

    assert.equal(run.status, 'failed');
    assert.equal(run.error.code, 'HTTP_404');
    assert.equal(run.steps[0].status, 'failed');
    assert.equal(run.steps[0].attempts, 1);
    assert.equal(suite.receiver.requestsTo('/missing').length, 1);
  });

  it('returns the same run for a repeated Idempotency-Key and starts no second run', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'idempotent',
      steps: [{ id: 'noop', type: 'transform', config: { expression: 'trigger.n' } }],
    });
    const headers = { 'idempotency-key': 'order-1234' };
    const first = await suite.stack.call('POST', `/v1/workflows/${id}/runs`, { n: 1 }, headers);
    const second = await suite.stack.call('POST', `/v1/workflows/${id}/runs`, { n: 2 }, headers);
    const other = await suite.stack.call(
      'POST',
      `/v1/workflows/${id}/runs`,
      { n: 3 },
      { 'idempotency-key': 'order-5678' },
    );

    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.equal(second.body.runId, first.body.runId);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.notEqual(other.body.runId, first.body.runId);
    const run = await waitForEnd(suite.stack, first.body.runId);
    assert.equal(run.result, 1, 'the first payload ran');
    const listed = await suite.stack.call('GET', `/v1/runs?workflowId=${id}`);
    assert.equal(listed.body.items.length, 2);
  });

  it('answers 400 listing every mistake of a bad definition with a JSON pointer', async () => {
    const res = await suite.stack.call('POST', '/v1/workflows', {
      name: 'broken',
      steps: [
        { id: 'a', type: 'http', config: { method: 'FETCH', url: 'not a url' } },
        { id: 'a', type: 'transform', config: { expression: 'steps.(' } },
        { id: 'b', type: 'teleport', config: {} },
        { id: 'c', type: 'delay', config: { duration: 'soon' }, next: 'nowhere' },
      ],
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(res.body.code, 'INVALID_DEFINITION');
    assert.equal(res.body.type, 'https://mini-zaps.dev/problems/invalid-definition');
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer);
    for (const p of [
      '/steps/0/config/method',
      '/steps/0/config/url',
      '/steps/1/config/expression',
      '/steps/2/type',
      '/steps/3/config/duration',
    ]) {
      assert.ok(pointers.includes(p), `expected a problem at ${p}, got ${pointers.join(', ')}`);
    }
  });

  it('keeps a waiting run on its old version when the workflow gets a new one', async () => {
    const version = (label: string, wait: string) => ({
      name: 'versioned',
      steps: [
        { id: 'wait', type: 'delay', config: { duration: wait } },
        { id: 'label', type: 'transform', config: { expression: `'${label}'` } },
      ],
    });
    const id = await createWorkflow(suite.stack, version('v1', '2s'));
    const oldRun = await trigger(suite.stack, id);
    await waitForStatus(suite.stack, oldRun, 'waiting');

    const put = await suite.stack.call('PUT', `/v1/workflows/${id}`, version('v2', '1ms'));
    assert.deepEqual(put.body, { id, version: 2 });
    const newRun = await trigger(suite.stack, id);

    const [oldEnd, newEnd] = await Promise.all([waitForEnd(suite.stack, oldRun), waitForEnd(suite.stack, newRun)]);
    assert.equal(oldEnd.version, 1);
    assert.equal(oldEnd.result, 'v1');
    assert.equal(newEnd.version, 2);
    assert.equal(newEnd.result, 'v2');
    const v1 = await suite.stack.call('GET', `/v1/workflows/${id}/versions/1`);
    assert.equal(v1.body.definition.steps[1].config.expression, "'v1'");
  });
});

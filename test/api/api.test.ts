import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app.js';
import { triggerRun } from '../../src/runs/start-run.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

const tiny = (name = 'tiny') => ({
  name,
  steps: [{ id: 'only', type: 'transform', config: { expression: 'trigger' } }],
});

describe('the API (real PostgreSQL and Temporal)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  /** Every error is problem+json with a stable type and the expected status; never a 500. */
  async function expectProblem(
    res: Promise<{ status: number; headers: Headers; body: { code: string; type: string; status: number } }>,
    status: number,
    code: string,
  ) {
    const r = await res;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(r.body.code, code);
    assert.equal(r.body.status, status);
    assert.equal(r.body.type, `https://mini-zaps.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`);
  }

  it('serves the OpenAPI 3.1 document, the docs page, the DSL JSON Schema and health', async () => {
    const doc = await stack.call('GET', '/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
    assert.ok(doc.body.paths['/v1/workflows/{id}/runs']);
    assert.equal((await stack.app.request('/docs')).status, 200);
    const schema = await stack.call('GET', '/v1/schema/workflow');
    assert.equal(schema.body.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual((await stack.call('GET', '/healthz')).body, { status: 'ok' });
    const ready = await stack.call('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { database: 'ok', temporal: 'ok' });
  });

  it('creates, lists with keyset pagination, reads, versions and archives workflows', async () => {
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await createWorkflow(stack, tiny(`paged-${n}`)));
    const page1 = await stack.call('GET', '/v1/workflows?limit=2');
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.nextCursor);
    const page2 = await stack.call('GET', `/v1/workflows?limit=2&cursor=${page1.body.nextCursor}`);
    const seen = [...page1.body.items, ...page2.body.items].map((w: { id: string }) => w.id);
    for (const id of ids) assert.ok(seen.includes(id));
    assert.equal(new Set(seen).size, seen.length, 'no workflow appears on two pages');

    const id = ids[0];
    assert.equal((await stack.call('PUT', `/v1/workflows/${id}`, tiny('renamed'))).body.version, 2);
    const latest = await stack.call('GET', `/v1/workflows/${id}`);
    assert.equal(latest.body.version, 2);
    assert.equal(latest.body.name, 'renamed');
    assert.equal((await stack.call('GET', `/v1/workflows/${id}/versions/1`)).body.name, 'paged-1');

    assert.equal((await stack.call('DELETE', `/v1/workflows/${id}`)).status, 204);
    await expectProblem(stack.call('POST', `/v1/workflows/${id}/runs`, {}), 409, 'WORKFLOW_ARCHIVED');
    await expectProblem(stack.call('PUT', `/v1/workflows/${id}`, tiny()), 409, 'WORKFLOW_ARCHIVED');
    assert.ok(
      (await stack.call('GET', `/v1/workflows/${id}`)).body.archivedAt,
      'an archived workflow is still readable',
    );
    const listed = await stack.call('GET', '/v1/workflows?limit=200');
    assert.ok(!listed.body.items.some((w: { id: string }) => w.id === id), 'archived workflows leave the list');
  });

  it('validates without saving', async () => {
    assert.deepEqual((await stack.call('POST', '/v1/workflows/validate', tiny())).body, { valid: true });
    await expectProblem(
      stack.call('POST', '/v1/workflows/validate', { name: 'x', steps: [] }),
      400,
      'INVALID_DEFINITION',
    );
  });

  it('lists runs filtered by workflow and status, newest first, with a cursor', async () => {
    const id = await createWorkflow(stack, tiny('listed'));
    const runIds = [];
    for (const n of [1, 2, 3]) runIds.push(await trigger(stack, id, { n }));
    for (const runId of runIds) await waitForEnd(stack, runId);
    const page1 = await stack.call('GET', `/v1/runs?workflowId=${id}&status=completed&limit=2`);
    assert.equal(page1.body.items.length, 2);
    const page2 = await stack.call(
      'GET',
      `/v1/runs?workflowId=${id}&status=completed&limit=2&cursor=${page1.body.nextCursor}`,
    );
    assert.equal(page2.body.items.length, 1);
    assert.equal(page2.body.nextCursor, null);
    const all = [...page1.body.items, ...page2.body.items].map((r: { id: string }) => r.id);
    assert.deepEqual(all, [...runIds].reverse(), 'the API lists the last triggered first, across pages');
    assert.equal((await stack.call('GET', `/v1/runs?workflowId=${id}&status=failed`)).body.items.length, 0);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await stack.call('GET', `/v1/runs?workflowId=${id}&since=${future}`)).body.items.length, 0);
  });

  it('starts a run eagerly on the worker in its own process, and falls back to a queued start without one', async () => {
    const id = await createWorkflow(stack, tiny('eager'));
    const eager = await triggerRun(stack.deps, { tenantId: 'default', workflowId: id, payload: { n: 1 } });
    assert.equal(eager.eager, true);
    // No worker polls this task queue in this process: an ordinary start, picked up later.
    const queued = await triggerRun(
      { ...stack.deps, config: { ...stack.deps.config, TEMPORAL_TASK_QUEUE: 'nobody-polls-this' } },
      { tenantId: 'default', workflowId: id, payload: { n: 2 } },
    );
    assert.equal(queued.eager, false);
    assert.equal((await waitForEnd(stack, eager.runId)).status, 'completed');
    assert.equal((await stack.client.workflow.getHandle(queued.runId).describe()).status.name, 'RUNNING');
    await stack.client.workflow.getHandle(queued.runId).terminate('test over');
  });

  it('answers 503 when Temporal refuses a run, and lists no run for it', async () => {
    const id = await createWorkflow(stack, tiny('refused'));
    const refusing = new Client({ connection: stack.client.connection, namespace: 'no-such-namespace' });
    const app = createApp({ ...stack.deps, temporal: refusing });
    const res = await app.request(`/v1/workflows/${id}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, 'UNAVAILABLE');
    assert.deepEqual((await stack.call('GET', `/v1/runs?workflowId=${id}`)).body.items, []);
  });

  it('over HTTP, refuses a body over the limit whether its length is declared or streamed', async () => {
    const server = serve({ fetch: stack.app.fetch, hostname: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/workflows`;
    try {
      const big = JSON.stringify({ name: 'x'.repeat(stack.config.API_BODY_LIMIT_BYTES + 1000), steps: [] });
      const declared = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      const chunks = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) });
      const streamed = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunks,
        duplex: 'half',
      } as RequestInit);
      const small = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tiny('over http')),
      });
      assert.deepEqual([declared.status, streamed.status, small.status], [413, 413, 201]);
      assert.equal(((await streamed.json()) as { code: string }).code, 'BODY_TOO_LARGE');
    } finally {
      server.close();
    }
  });

  describe('bad input is a clear problem+json, never a 500', () => {
    it('malformed JSON', () =>
      expectProblem(stack.call('POST', '/v1/workflows', '{"name": '), 400, 'MALFORMED_REQUEST'));
    it('a JSON value that is not an object', () =>
      expectProblem(stack.call('POST', '/v1/workflows', [1, 2]), 400, 'INVALID_REQUEST'));
    it('a body over the limit', () =>
      expectProblem(
        stack.call('POST', '/v1/workflows', { name: 'x'.repeat(stack.config.API_BODY_LIMIT_BYTES + 1000), steps: [] }),
        413,
        'BODY_TOO_LARGE',
      ));
    it('a definition over its own bound, under the body limit', () =>
      expectProblem(
        stack.call('POST', '/v1/workflows', { name: 'x'.repeat(1_100_000), steps: [] }),
        400,
        'INVALID_DEFINITION',
      ));
    it('an unknown route', () => expectProblem(stack.call('GET', '/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND'));
    it('an unknown workflow', () => expectProblem(stack.call('GET', '/v1/workflows/does-not-exist'), 404, 'NOT_FOUND'));
    it('an unknown version', async () => {
      const id = await createWorkflow(stack, tiny());
      await expectProblem(stack.call('GET', `/v1/workflows/${id}/versions/9`), 404, 'NOT_FOUND');
      await expectProblem(stack.call('GET', `/v1/workflows/${id}/versions/first`), 400, 'INVALID_REQUEST');
    });
    it('a trigger of an unknown workflow', () =>
      expectProblem(stack.call('POST', '/v1/workflows/nope/runs', {}), 404, 'NOT_FOUND'));
    it('an unknown run', () => expectProblem(stack.call('GET', '/v1/runs/nope'), 404, 'NOT_FOUND'));
    it('bad run filters', async () => {
      await expectProblem(stack.call('GET', '/v1/runs?status=sleeping'), 400, 'INVALID_REQUEST');
      await expectProblem(stack.call('GET', '/v1/runs?limit=0'), 400, 'INVALID_REQUEST');
      await expectProblem(stack.call('GET', '/v1/runs?limit=ten'), 400, 'INVALID_REQUEST');
      await expectProblem(stack.call('GET', '/v1/runs?since=yesterday'), 400, 'INVALID_REQUEST');
      await expectProblem(stack.call('GET', '/v1/runs?cursor=garbage'), 400, 'INVALID_CURSOR');
    });
    it('an over-long idempotency key', async () => {
      const id = await createWorkflow(stack, tiny());
      await expectProblem(
        stack.call('POST', `/v1/workflows/${id}/runs`, {}, { 'idempotency-key': 'k'.repeat(500) }),
        400,
        'INVALID_REQUEST',
      );
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app.js';
import { createWorkflow } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

const ECHO = { name: 'both paths', steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger' } }] };

describe('the API trigger and the webhook trigger', () => {
  let stack: Stack;
  const logLines: string[] = [];
  before(async () => {
    stack = await startStack({ logLines });
  });
  after(() => stack?.stop());

  /** `minizaps_triggers_total` by result, as /metrics shows it. */
  const triggerCounts = async () => {
    const { values } = await stack.deps.metrics.triggers.get();
    return Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]));
  };
  const delta = (before: Record<string, number>, after: Record<string, number>) =>
    Object.fromEntries(['accepted', 'replayed', 'rejected'].map((r) => [r, (after[r] ?? 0) - (before[r] ?? 0)]));
  const triggeredLines = () =>
    logLines.filter((l) => l.includes('"msg":"run triggered"')).map((l) => JSON.parse(l) as Record<string, unknown>);

  it('count accepted, replayed and rejected runs alike and log the same "run triggered" line', async () => {
    const workflowId = await createWorkflow(stack, ECHO);
    const hook = await stack.call('POST', `/v1/workflows/${workflowId}/webhooks`, { signed: false });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const hookUrl = (hook.body as { url: string }).url;
    const viaApi = (app: ReturnType<typeof createApp>, key: string) =>
      app.request(`/v1/workflows/${workflowId}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: '{"n":1}',
      });
    const viaHook = (app: ReturnType<typeof createApp>, key: string) =>
      app.request(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: '{"n":1}',
      });
    // Temporal refuses the start: each path answers 503 and counts a rejected trigger.
    const refusing = createApp({
      ...stack.deps,
      temporal: new Client({ connection: stack.client.connection, namespace: 'no-such-namespace' }),
    });

    const counts: Record<string, Record<string, number>> = {};
    for (const [path, send] of [
      ['api', viaApi],
      ['webhook', viaHook],
    ] as const) {
      const start = await triggerCounts();
      logLines.length = 0;
      assert.equal((await send(stack.app, `${path}-1`)).status, 202);
      assert.equal((await send(stack.app, `${path}-1`)).status, 202, 'a repeat with the same key');
      assert.equal((await send(refusing, `${path}-2`)).status, 503);
      counts[path] = delta(start, await triggerCounts());

      const lines = triggeredLines();
      assert.equal(lines.length, 2, `${path}: one "run triggered" line per started or replayed run`);
      for (const line of lines) {
        assert.equal(line.source, path);
        assert.equal(line.workflowId, workflowId);
        assert.equal(typeof line.requestId, 'string', `${path}: the line carries the request id`);
        assert.deepEqual(
          Object.keys(line)
            .filter((k) => ['runId', 'replayed', 'eager'].includes(k))
            .sort(),
          ['eager', 'replayed', 'runId'],
        );
      }
      assert.deepEqual(
        lines.map((l) => l.replayed),
        [false, true],
      );
    }
    assert.deepEqual(counts.api, { accepted: 1, replayed: 1, rejected: 1 });
    assert.deepEqual(counts.webhook, counts.api, 'the webhook counts as the API does');
  });
});

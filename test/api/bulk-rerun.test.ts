import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPacedAtMost } from '../helpers/pacing.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

describe('bulk re-run (real Temporal, real PostgreSQL)', () => {
  const suite = useStack();

  it('runs again every run a filter matches, each with its own payload, at most ratePerSecond a second', async () => {
    suite.receiver.on('/bulk', () => ({ status: 200, body: { ok: true } }));
    const id = await createWorkflow(suite.stack, {
      name: 'bulk',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/bulk`, body: { n: '{{ trigger.n }}' } },
        },
      ],
    });
    const originals: string[] = [];
    for (let n = 0; n < 6; n++) originals.push(await trigger(suite.stack, id, { n }));
    for (const runId of originals) assert.equal((await waitForEnd(suite.stack, runId)).status, 'completed');

    const since = Date.now();
    const started = await suite.stack.call('POST', '/v1/runs/rerun', { workflowId: id, ratePerSecond: 2 });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const result = await suite.stack.client.workflow.getHandle(started.body.operationId).result();
    assert.deepEqual(result, { matched: 6, started: 6 });

    await waitFor(
      'the re-runs to reach the receiver',
      async () => (suite.receiver.requestsTo('/bulk').length === 12 ? true : undefined),
      60_000,
    );
    const reruns = suite.receiver.requestsTo('/bulk').slice(6);
    assert.deepEqual(
      reruns.map((r) => JSON.parse(r.body).n).sort(),
      [0, 1, 2, 3, 4, 5],
      'each re-run carries its original payload',
    );
    // Six at two a second take two seconds at least from the request.
    assertPacedAtMost(
      reruns.map((r) => r.at),
      2,
      since,
    );

    const listed = await suite.stack.call('GET', `/v1/runs?workflowId=${id}&source=rerun`);
    assert.equal(listed.body.items.length, 6);
    assert.ok(listed.body.items.every((r: { id: string }) => !originals.includes(r.id)));
  });
});

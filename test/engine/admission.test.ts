import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPacedAtMost } from '../helpers/pacing.js';
import { heldUntilOpen } from '../helpers/receiver.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

/** A run that posts its trigger to `path` (the receiver answers it slowly or at once). */
const calling = (name: string, url: string, admission: Record<string, unknown>) => ({
  name,
  ...admission,
  steps: [{ id: 'call', type: 'http', config: { method: 'POST', url, body: '{{ trigger }}' } }],
});

describe('admission control per workflow (real Temporal, real PostgreSQL, a real receiver)', () => {
  const suite = useStack();

  it('50 runs of a workflow with concurrency.limit 3 never have more than 3 running at once, and all 50 complete', async () => {
    suite.receiver.on('/slow', heldUntilOpen(suite.receiver, '/slow', 3));
    const wf = await createWorkflow(
      suite.stack,
      calling('limited', `${suite.receiver.url}/slow`, { concurrency: { limit: 3 } }),
    );
    const runs = await Promise.all(Array.from({ length: 50 }, (_, n) => trigger(suite.stack, wf, { n })));
    for (const runId of runs) assert.equal((await waitForEnd(suite.stack, runId, 120_000)).status, 'completed');
    assert.equal(suite.receiver.requestsTo('/slow').length, 50);
    assert.equal(suite.receiver.maxInFlight('/slow'), 3, 'at most 3 at once, and the limit was used');
  });

  it('a concurrency key limits each key on its own', async () => {
    suite.receiver.on('/keyed', heldUntilOpen(suite.receiver, '/keyed', 2));
    const wf = await createWorkflow(
      suite.stack,
      calling('keyed', `${suite.receiver.url}/keyed`, { concurrency: { limit: 1, key: 'trigger.user' } }),
    );
    const runs = await Promise.all(['a', 'a', 'a', 'b', 'b', 'b'].map((user) => trigger(suite.stack, wf, { user })));
    for (const runId of runs) assert.equal((await waitForEnd(suite.stack, runId, 60_000)).status, 'completed');
    assert.equal(suite.receiver.maxInFlight('/keyed'), 2, 'one run per user at once, two users side by side');
  });

  it('throttle.perSecond 5 lets no more than 5 of 12 runs start in any second', async () => {
    suite.receiver.accept('/paced');
    const wf = await createWorkflow(
      suite.stack,
      calling('paced', `${suite.receiver.url}/paced`, { throttle: { perSecond: 5 } }),
    );
    const since = Date.now();
    const runs = await Promise.all(Array.from({ length: 12 }, (_, n) => trigger(suite.stack, wf, { n })));
    for (const runId of runs) assert.equal((await waitForEnd(suite.stack, runId, 60_000)).status, 'completed');
    const at = suite.receiver.requestsTo('/paced').map((r) => r.at);
    assert.equal(at.length, 12);
    // Twelve at five a second take two seconds at least from the first trigger.
    assertPacedAtMost(at, 5, since);
  });

  it('debounce: of runs with the same key within the period only the last one runs; the others end superseded', async () => {
    suite.receiver.accept('/debounced');
    // The period is far longer than the gap between two triggers, even on a loaded machine.
    const wf = await createWorkflow(
      suite.stack,
      calling('debounced', `${suite.receiver.url}/debounced`, { debounce: { period: '5s', key: 'trigger.user' } }),
    );
    const burst: string[] = [];
    for (let n = 0; n < 5; n++) burst.push(await trigger(suite.stack, wf, { user: 'a', n }));
    const other = await trigger(suite.stack, wf, { user: 'b', n: 0 });
    const ended = await Promise.all([...burst, other].map((runId) => waitForEnd(suite.stack, runId, 60_000)));
    const bodies = suite.receiver.requestsTo('/debounced').map((r) => JSON.parse(r.body));
    assert.deepEqual(
      bodies.sort((x, y) => x.user.localeCompare(y.user)),
      [
        { user: 'a', n: 4 },
        { user: 'b', n: 0 },
      ],
    );
    for (const run of ended.slice(0, 4)) {
      assert.equal(run.status, 'completed');
      assert.equal(run.result.debounced, true, JSON.stringify(run.result));
    }
  });
});

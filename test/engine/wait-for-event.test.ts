import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

describe('wait_for_event without a timeout (real Temporal, real PostgreSQL)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  it('waits until the event arrives and takes its payload, rather than taking the arrival for a timeout', async () => {
    const id = await createWorkflow(stack, {
      name: 'approval',
      steps: [
        { id: 'approval', type: 'wait_for_event', config: { name: 'approved' }, onTimeout: 'late' },
        { id: 'done', type: 'succeed', config: { output: '{{ steps.approval.output }}' } },
        { id: 'late', type: 'fail', config: { error: 'LATE', message: 'taken for a timeout' } },
      ],
    });
    const runId = await trigger(stack, id);
    await waitForStatus(stack, runId, 'waiting');
    assert.equal((await stack.call('POST', `/v1/runs/${runId}/events/approved`, { by: 'grace' })).status, 202);
    const run = await waitForEnd(stack, runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.deepEqual(run.result, { by: 'grace' });
  });
});

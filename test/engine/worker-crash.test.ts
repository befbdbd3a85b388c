import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';
import { startWorkerProcess, workerReady } from '../helpers/worker-process.js';

describe('durability: a worker killed with SIGKILL', () => {
  const children: ChildProcess[] = [];
  // Registered first, so the worker processes die before the stack stops.
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  const suite = useStack({ worker: false });

  it('loses no run: a new worker finishes a run whose worker died during its delay, and the http step runs once', async () => {
    const first = startWorkerProcess(suite.stack.workerEnv);
    children.push(first);
    await workerReady(first);
    suite.receiver.accept('/before', '/after');

    const id = await createWorkflow(suite.stack, {
      name: 'survives a crash',
      steps: [
        {
          id: 'before',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/before`, body: { n: '{{ trigger.n }}' } },
        },
        { id: 'wait', type: 'delay', config: { duration: '3s' } },
        { id: 'after', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/after` } },
        { id: 'done', type: 'transform', config: { expression: "'finished'" } },
      ],
    });
    const runId = await trigger(suite.stack, id, { n: 7 });
    await waitForStatus(suite.stack, runId, 'waiting');

    first.kill('SIGKILL');
    await once(first, 'exit');
    const second = startWorkerProcess(suite.stack.workerEnv);
    children.push(second);
    await workerReady(second);

    const run = await waitForEnd(suite.stack, runId, 90_000);
    assert.equal(run.status, 'completed');
    assert.equal(run.result, 'finished');
    assert.equal(
      suite.receiver.requestsTo('/before').length,
      1,
      'the step completed before the crash did not run again',
    );
    assert.equal(suite.receiver.requestsTo('/after').length, 1);
    second.kill('SIGTERM');
    await once(second, 'exit');
  });
});

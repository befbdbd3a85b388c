import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './helpers/ports.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from './helpers/runs.js';
import { startStack, type Stack } from './helpers/stack.js';

const WORKER_MAIN = fileURLToPath(new URL('../src/worker/main.ts', import.meta.url));

/** The worker as its own process, as in production. */
function startWorkerProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function workerReady(child: ChildProcess): Promise<void> {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor('the worker process to start', async () => (out.includes('worker started') ? true : undefined), 60_000);
}

describe('durability: a worker killed with SIGKILL', () => {
  let stack: Stack;
  let receiver: Receiver;
  const children: ChildProcess[] = [];
  before(async () => {
    [stack, receiver] = await Promise.all([startStack({ worker: false }), startReceiver()]);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await stack?.stop();
    await receiver?.close();
  });

  it('loses no run: a new worker finishes a run whose worker died during its delay, and the http step runs once', async () => {
    const first = startWorkerProcess(stack.workerEnv);
    children.push(first);
    await workerReady(first);
    receiver.accept('/before', '/after');

    const id = await createWorkflow(stack, {
      name: 'survives a crash',
      steps: [
        {
          id: 'before',
          type: 'http',
          config: { method: 'POST', url: `${receiver.url}/before`, body: { n: '{{ trigger.n }}' } },
        },
        { id: 'wait', type: 'delay', config: { duration: '3s' } },
        { id: 'after', type: 'http', config: { method: 'POST', url: `${receiver.url}/after` } },
        { id: 'done', type: 'transform', config: { expression: "'finished'" } },
      ],
    });
    const runId = await trigger(stack, id, { n: 7 });
    await waitForStatus(stack, runId, 'waiting');

    first.kill('SIGKILL');
    await once(first, 'exit');
    const second = startWorkerProcess(stack.workerEnv);
    children.push(second);
    await workerReady(second);

    const run = await waitForEnd(stack, runId, 90_000);
    assert.equal(run.status, 'completed');
    assert.equal(run.result, 'finished');
    assert.equal(receiver.requestsTo('/before').length, 1, 'the step completed before the crash did not run again');
    assert.equal(receiver.requestsTo('/after').length, 1);
    second.kill('SIGTERM');
    await once(second, 'exit');
  });
});

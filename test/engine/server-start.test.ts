import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DevServerStartError, launchTemporalDevServer } from '../../src/main/dev/temporal.js';
import { freePort } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { toolPaths } from '../helpers/tools.js';

/**
 * The suite's servers start under its own patience, not the SDK's 5 s: a slow machine (here a
 * start delayed on purpose) still gets a working stack, and a server that cannot start says why.
 */
describe('starting the Temporal dev server', () => {
  let stack: Stack;
  let startedIn = 0;
  before(async () => {
    const t0 = Date.now();
    stack = await startStack({ temporalStartDelaySeconds: 10 });
    startedIn = Date.now() - t0;
  });
  after(() => stack?.stop());

  it('waits for a dev server whose start is delayed by 10 s, then runs a workflow on it', async () => {
    assert.ok(startedIn >= 10_000, `the start was delayed (${startedIn} ms)`);
    const id = await createWorkflow(stack, {
      name: 'after a slow start',
      steps: [{ id: 'one', type: 'transform', config: { expression: '1 + 1' } }],
    });
    const run = await waitForEnd(stack, await trigger(stack, id), 60_000);
    assert.deepEqual([run.status, run.result], ['completed', 2]);
  });

  it('a dev server that exits at start fails at once, quoting the last lines of its log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-start-'));
    try {
      const err = await launchTemporalDevServer({
        binary: toolPaths().temporal,
        address: `127.0.0.1:${await freePort()}`,
        namespace: 'default',
        logFile: join(dir, 'temporal.log'),
        extraArgs: ['--no-such-flag'],
      }).then(
        () => assert.fail('a server with an unknown flag started'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DevServerStartError, String(err));
      assert.equal(err.exited, true);
      assert.match(err.message, /exited \(\d+\) before it answered; last lines of .*temporal\.log:\n/);
      assert.match(err.message, /no-such-flag/, 'the log says what went wrong');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

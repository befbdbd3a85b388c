import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../src/worker/bundle.js';
import { replayOpenRuns } from '../../scripts/upgrade-replay.js';
import { createWorkflow, trigger, waitForStatus } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let runId: string;

before(async () => {
  stack = await startStack();
  const id = await createWorkflow(stack, {
    name: 'awaits approval',
    steps: [
      { id: 'approval', type: 'wait_for_event', config: { name: 'approved', timeout: '1h' } },
      { id: 'done', type: 'succeed' },
    ],
  });
  runId = await trigger(stack, id, {});
  await waitForStatus(stack, runId, 'waiting');
});

after(async () => {
  await stack?.stop();
});

test('the upgrade check replays every open run against the current workflow code and finds none broken', async () => {
  const report = await replayOpenRuns(stack.client, {
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    workflows: { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES } },
  });
  assert.ok(report.replayed >= 1, `replayed ${report.replayed}`);
  assert.deepEqual(report.broken, []);
});

test('the upgrade check names the open run that workflow code changed without patched() would break', async () => {
  const changed = fileURLToPath(new URL('./fixtures/changed-interpreter.ts', import.meta.url));
  const report = await replayOpenRuns(stack.client, {
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    workflows: { workflowsPath: changed },
  });
  const broken = report.broken.find((b) => b.workflowId === runId);
  assert.ok(broken, `run ${runId} reported: ${JSON.stringify(report)}`);
  assert.match(broken.error, /nondetermin/i);
});

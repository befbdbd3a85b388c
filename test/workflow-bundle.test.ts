import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

// The worker evaluates the bundle's modules afresh for every run it starts, so every module the
// workflows import is a cost per run; zod alone cost more than a run's steps.
it('the workflow bundle loads no zod', async () => {
  const { code } = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url)), logger: new DefaultLogger('ERROR') });
  assert.match(code, /node_modules\/jsonata\//);
  assert.doesNotMatch(code, /node_modules\/zod\//);
});

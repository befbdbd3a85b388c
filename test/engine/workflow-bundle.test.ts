import assert from 'node:assert/strict';
import { it } from 'node:test';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../src/worker/bundle.js';

// The worker evaluates the bundle's modules afresh for every run it starts (all but the shared
// ones), so every module the workflows import is a cost per run; zod alone cost more than a run's steps.
it('the workflow bundle loads no zod and shares the expression engine among runs', async () => {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: SHARED_WORKFLOW_MODULES,
    logger: new DefaultLogger('ERROR'),
  });
  assert.match(code, /node_modules\/jsonata\//);
  assert.doesNotMatch(code, /node_modules\/zod\//);
  const preload = /exports\.preloadModules = function preloadModules\(\) \{([\s\S]*?)\n\}/.exec(code)?.[1] ?? '';
  for (const name of ['jsonata', 'src/definitions/expressions/evaluate.ts', 'src/definitions/expressions/templates.ts'])
    assert.ok(preload.includes(name), `${name} is preloaded`);
});

import type { ReplayWorkerOptions } from '@temporalio/worker';
import { REPLAY_SINKS } from '../../src/activities/run-index.js';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../src/worker/bundle.js';

/** A replayer of the worker's workflows, bundled as the worker bundles them. */
export const REPLAY_OPTIONS: ReplayWorkerOptions = {
  workflowsPath: WORKFLOWS_PATH,
  bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
  sinks: REPLAY_SINKS,
};

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  bundleWorkflowCode,
  type BundlerPlugin,
  type WorkerDeploymentOptions,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Config } from '../shared/config.js';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from './bundle.js';

export type VersioningConfig = Pick<
  Config,
  'WORKFLOW_BUNDLE_PATH' | 'WORKER_DEPLOYMENT_NAME' | 'WORKER_BUILD_ID' | 'WORKER_VERSIONING_BEHAVIOR'
>;

/** The workflow code of a worker and, when versioning is on, the deployment version it declares. */
export type WorkflowCodeOptions = Pick<
  WorkerOptions,
  'workflowBundle' | 'workflowsPath' | 'bundlerOptions' | 'workerDeploymentOptions'
>;

/**
 * A build id from the workflow code itself: the bundle is byte-for-byte reproducible (no paths,
 * no timestamps), so the same workflow code gives the same id on every machine, and any change to
 * it gives a new one. Activity-only changes keep the id: they need no new version.
 *
 * @example buildIdOf(code) // 'wf-1899ccad325590fb'
 */
export const buildIdOf = (code: string): string => `wf-${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;

/** The workflow bundle this configuration runs: the prebuilt one, or one built now. */
export async function loadWorkflowBundle(
  config: Pick<Config, 'WORKFLOW_BUNDLE_PATH'>,
  plugins: BundlerPlugin[] = [],
): Promise<string> {
  if (config.WORKFLOW_BUNDLE_PATH) return readFile(config.WORKFLOW_BUNDLE_PATH, 'utf8');
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: SHARED_WORKFLOW_MODULES,
    plugins,
  });
  return code;
}

/** The deployment version a worker with this configuration and workflow code declares (undefined: unversioned). */
export function deploymentOptions(config: VersioningConfig, code: string): WorkerDeploymentOptions | undefined {
  if (!config.WORKER_DEPLOYMENT_NAME) return undefined;
  return {
    useWorkerVersioning: true,
    version: { deploymentName: config.WORKER_DEPLOYMENT_NAME, buildId: config.WORKER_BUILD_ID ?? buildIdOf(code) },
    defaultVersioningBehavior: config.WORKER_VERSIONING_BEHAVIOR,
  };
}

/**
 * What `Worker.create` is given for workflow code. Unversioned, the worker loads or bundles the code
 * itself, as it always has. Versioned, the code is loaded here first so the build id is the hash of
 * exactly what the worker runs; `plugins` are the worker's, so their workflow interceptors are in it.
 */
export async function workflowCodeOptions(
  config: VersioningConfig,
  plugins: BundlerPlugin[] = [],
): Promise<WorkflowCodeOptions> {
  if (!config.WORKER_DEPLOYMENT_NAME)
    return config.WORKFLOW_BUNDLE_PATH
      ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES } };
  const code = await loadWorkflowBundle(config, plugins);
  return { workflowBundle: { code }, workerDeploymentOptions: deploymentOptions(config, code) };
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { z } from 'zod';
import { bootstrap, type Process } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { buildIdOf, loadWorkflowBundle } from '../../src/worker/versioning.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { toolPaths } from '../helpers/stack.js';
import { useStack } from '../helpers/use-stack.js';

const run = promisify(execFile);
const UPGRADE_CHECK = fileURLToPath(new URL('../../scripts/upgrade-check.ts', import.meta.url));
/** Workflow code changed without a revision gate: it cannot replay any recorded run. */
const CHANGED_INTERPRETER = fileURLToPath(new URL('./fixtures/changed-interpreter.ts', import.meta.url));
const DEPLOYMENT = 'mini-zaps-test';
const { VersioningBehavior, RoutingConfigUpdateState } = proto.temporal.api.enums.v1;
const { VERSIONING_BEHAVIOR_PINNED: PINNED, VERSIONING_BEHAVIOR_AUTO_UPGRADE: AUTO_UPGRADE } = VersioningBehavior;
const APPROVAL = {
  name: 'approval',
  steps: [
    { id: 'approval', type: 'wait_for_event', config: { name: 'approved' } },
    { id: 'done', type: 'succeed', config: { output: '{{ steps.approval.output }}' } },
  ],
};

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

describe('worker versioning: runs follow the deployment version set current (real Temporal dev server)', () => {
  const workers: Process[] = [];
  let dir = '';
  let buildA = '';
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const suite = useStack({ worker: false });

  /** A worker as its own bootstrap (as a worker process is), in the deployment. */
  async function startWorker(env: Record<string, string>): Promise<void> {
    const config = loadConfig({ ...suite.stack.workerEnv, WORKER_DEPLOYMENT_NAME: DEPLOYMENT, ...env });
    const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'worker');
    workers.push(await bootstrap(config, { logger, service: 'mini-zaps-worker', worker: true }));
  }

  /** What a worker of the stack and `npm run upgrade-check` read, on the test's prebuilt bundle. */
  const checkEnv = () => ({ ...suite.stack.workerEnv, WORKFLOW_BUNDLE_PATH: join(dir, 'workflow-bundle.js') });

  /** The runbook's command; retried while the server has not yet seen the new build's pollers. */
  async function setCurrent(buildId: string): Promise<void> {
    const args = ['worker', 'deployment', 'set-current-version', '--address', suite.stack.config.TEMPORAL_ADDRESS];
    const flags = ['--deployment-name', DEPLOYMENT, '--build-id', buildId, '--yes'];
    await waitFor(`${buildId} to become current`, () => run(toolPaths().temporal, [...args, ...flags]), 30_000);
    // The server then propagates the change to the task queue's partitions; until done, tasks may still go to the old one.
    await waitFor(`the routing to ${buildId} to reach the task queue`, async () => {
      const { workerDeploymentInfo: info } = await suite.stack.client.workflowService.describeWorkerDeployment({
        namespace: suite.stack.config.TEMPORAL_NAMESPACE,
        deploymentName: DEPLOYMENT,
      });
      const routed = info?.routingConfig?.currentDeploymentVersion?.buildId === buildId;
      return routed && info?.routingConfigUpdateState === RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED
        ? true
        : undefined;
    });
  }

  /** Where the run is now (the version of its last workflow task) and by which behaviour, from Temporal. */
  async function versioning(runId: string): Promise<{ buildId?: string | null; behavior?: number | null }> {
    const { raw } = await suite.stack.client.workflow.getHandle(runId).describe();
    const info = raw.workflowExecutionInfo?.versioningInfo;
    return { buildId: info?.deploymentVersion?.buildId, behavior: info?.behavior };
  }

  /** The build of every completed workflow task of the run, in order, from its history. */
  async function taskBuilds(runId: string): Promise<(string | null | undefined)[]> {
    const history = await suite.stack.client.workflow.getHandle(runId).fetchHistory();
    return (history.events ?? [])
      .map((e: HistoryEvent) => e.workflowTaskCompletedEventAttributes)
      .filter((a) => a !== undefined && a !== null)
      .map((a) => a.deploymentVersion?.buildId);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mini-zaps-versioning-'));
    const code = await loadWorkflowBundle({});
    await writeFile(join(dir, 'workflow-bundle.js'), code);
    buildA = buildIdOf(code);
    // Build A runs the prebuilt bundle and pins its runs; build B bundles at start and has the default behaviour.
    await startWorker({ ...checkEnv(), WORKER_VERSIONING_BEHAVIOR: 'PINNED' });
    await startWorker({ WORKER_BUILD_ID: 'b' });
  });

  it('the default build id is reproducible: the same workflow code bundled again has the same id', async () => {
    assert.equal(buildIdOf(await loadWorkflowBundle({})), buildA);
  });

  it('a deployment name Temporal would refuse stops the process at start, naming the variable', () => {
    assert.throws(() => loadConfig({ WORKER_DEPLOYMENT_NAME: 'mini.zaps' }), /WORKER_DEPLOYMENT_NAME/);
  });

  it('a pinned run finishes on the build it started on, while new runs go to the build set current after it', async () => {
    const { stack } = suite;
    const workflowId = await createWorkflow(stack, APPROVAL);
    await setCurrent(buildA);
    const onA = await trigger(stack, workflowId);
    await waitForStatus(stack, onA, 'waiting');
    // The default build id is the bundle's hash: worker A was given none.
    assert.deepEqual(await versioning(onA), { buildId: buildA, behavior: PINNED });

    await setCurrent('b');
    const onB = await trigger(stack, workflowId);
    await waitForStatus(stack, onB, 'waiting');
    assert.deepEqual(await versioning(onB), { buildId: 'b', behavior: AUTO_UPGRADE });

    assert.equal((await stack.call('POST', `/v1/runs/${onA}/events/approved`, { run: 'a' })).status, 202);
    const finished = await waitForEnd(stack, onA);
    assert.equal(finished.status, 'completed', JSON.stringify(finished.error));
    assert.deepEqual(finished.result, { run: 'a' });
    const builds = await taskBuilds(onA);
    assert.ok(builds.length >= 2, `workflow tasks before and after the event: ${builds.length}`);
    assert.deepEqual(new Set(builds), new Set([buildA]), 'every workflow task of the pinned run ran on A');

    assert.equal((await stack.call('POST', `/v1/runs/${onB}/events/approved`, {})).status, 202);
    assert.equal((await waitForEnd(stack, onB)).status, 'completed');
    assert.deepEqual(new Set(await taskBuilds(onB)), new Set(['b']));
  });

  it('a clean upgrade check prints the command that makes the checked build current, and that command does', async () => {
    const { stack } = suite;
    await setCurrent('b');
    const runId = await trigger(stack, await createWorkflow(stack, APPROVAL));
    await waitForStatus(stack, runId, 'waiting');
    const env = { ...process.env, ...checkEnv(), WORKER_DEPLOYMENT_NAME: DEPLOYMENT };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', UPGRADE_CHECK], { env });
    const replayed = Number(/^(\d+) open executions replayed, 0 would break$/m.exec(stdout)?.[1]);
    assert.ok(replayed >= 1, stdout);
    const command = /^\s+temporal (worker deployment set-current-version .*)$/m.exec(stdout)?.[1];
    assert.ok(command, stdout);
    assert.ok(command.includes(`--build-id ${buildA}`), command);
    await run(toolPaths().temporal, [...command.split(' '), '--yes']);
    const { workerDeploymentInfo: info } = await stack.client.workflowService.describeWorkerDeployment({
      namespace: stack.config.TEMPORAL_NAMESPACE,
      deploymentName: DEPLOYMENT,
    });
    assert.equal(info?.routingConfig?.currentDeploymentVersion?.buildId, buildA);
    await stack.client.workflow.getHandle(runId).terminate('test over');
  });

  it('the upgrade check counts a run the new code would break, and lists it apart once it is pinned to its build', async () => {
    const { stack } = suite;
    await setCurrent('b');
    const runId = await trigger(stack, await createWorkflow(stack, APPROVAL));
    await waitForStatus(stack, runId, 'waiting');
    const changed = join(dir, 'changed-bundle.js');
    await writeFile(changed, (await bundleWorkflowCode({ workflowsPath: CHANGED_INTERPRETER })).code);
    const env = { ...process.env, ...checkEnv(), WORKFLOW_BUNDLE_PATH: changed, WORKER_DEPLOYMENT_NAME: DEPLOYMENT };
    const check = () =>
      run(process.execPath, ['--import', 'tsx', UPGRADE_CHECK], { env }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (err: unknown) => z.object({ code: z.number(), stdout: z.string() }).parse(err),
      );

    const unpinned = await check();
    assert.equal(unpinned.code, 1, unpinned.stdout);
    assert.match(unpinned.stdout, new RegExp(`^BREAKS interpreter ${runId} `, 'm'));

    const pin = ['--versioning-override-behavior', 'pinned', '--versioning-override-deployment-name', DEPLOYMENT];
    const target = ['--address', stack.config.TEMPORAL_ADDRESS, '--workflow-id', runId];
    await run(toolPaths().temporal, [
      'workflow',
      'update-options',
      ...target,
      ...pin,
      '--versioning-override-build-id',
      'b',
    ]);
    const pinned = await check();
    assert.equal(pinned.code, 0, pinned.stdout);
    assert.match(pinned.stdout, new RegExp(`^PINNED interpreter ${runId} \\(.+\\) to b, unaffected`, 'm'));
    assert.match(pinned.stdout, /^\d+ open executions replayed, 0 would break$/m);
    await stack.client.workflow.getHandle(runId).terminate('test over');
  });

  it('an auto-upgrade run moves to the build set current at its next workflow task (a rollback from B to A)', async () => {
    const { stack } = suite;
    const workflowId = await createWorkflow(stack, APPROVAL);
    await setCurrent('b');
    const runId = await trigger(stack, workflowId);
    await waitForStatus(stack, runId, 'waiting');
    assert.deepEqual(await versioning(runId), { buildId: 'b', behavior: AUTO_UPGRADE });

    await setCurrent(buildA);
    assert.equal((await stack.call('POST', `/v1/runs/${runId}/events/approved`, { run: 'moved' })).status, 202);
    const finished = await waitForEnd(stack, runId);
    assert.equal(finished.status, 'completed', JSON.stringify(finished.error));
    const builds = await taskBuilds(runId);
    assert.equal(builds[0], 'b', 'the run started on B');
    assert.equal(builds.at(-1), buildA, 'and its task after the event ran on A');
  });
});

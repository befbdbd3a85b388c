import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createLogger } from '../../src/shared/logger.js';
import { createReconciler } from '../../src/worker/reconciler.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';
import { toolPaths } from '../helpers/stack.js';

const run = promisify(execFile);

interface Listed {
  id: string;
  status: string;
  endedAt: string | null;
  problem: { cause: string; since: string; attempts: number } | null;
}

describe('the run index follows Temporal', () => {
  const suite = useStack();

  const list = async (query = ''): Promise<Listed[]> =>
    (await suite.stack.call('GET', `/v1/runs?limit=200${query}`)).body.items;
  const listed = async (runId: string, query = '') => (await list(query)).find((r) => r.id === runId);
  const sleeper = () =>
    createWorkflow(suite.stack, { name: 'sleeper', steps: [{ id: 'nap', type: 'delay', config: { duration: '1h' } }] });

  it('shows a run terminated with the temporal CLI as terminated, with the reason', async () => {
    const runId = await trigger(suite.stack, await sleeper());
    await waitForStatus(suite.stack, runId, 'waiting');
    await run(toolPaths().temporal, [
      'workflow',
      'terminate',
      '--workflow-id',
      runId,
      '--reason',
      'operator says stop',
      '--address',
      suite.stack.config.TEMPORAL_ADDRESS,
      '--namespace',
      suite.stack.config.TEMPORAL_NAMESPACE,
    ]);
    const shown = await waitFor(
      'the list to show the run terminated',
      async () => ((await listed(runId))?.status === 'terminated' ? listed(runId) : undefined),
      60_000,
    );
    assert.ok(shown?.endedAt, 'an end time');
    const detail = await suite.stack.call('GET', `/v1/runs/${runId}`);
    assert.equal(detail.body.status, 'terminated');
    assert.deepEqual(detail.body.error, { code: 'TERMINATED', message: 'operator says stop' });
  });

  it('terminates a run through the API (admin scope, declared in the OpenAPI document) and shows it at once', async () => {
    const runId = await trigger(suite.stack, await sleeper());
    await waitForStatus(suite.stack, runId, 'waiting');
    const res = await suite.stack.call('POST', `/v1/runs/${runId}/terminate`, { reason: 'no longer needed' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal((await listed(runId))?.status, 'terminated');
    assert.equal((await suite.stack.client.workflow.getHandle(runId).describe()).status.name, 'TERMINATED');
    assert.equal(
      (await suite.stack.call('POST', `/v1/runs/${runId}/terminate`, { reason: 'again' })).body.code,
      'RUN_ENDED',
    );
    assert.equal((await suite.stack.call('POST', `/v1/runs/${runId}/terminate`, {})).body.code, 'INVALID_REQUEST');
    const doc = (await suite.stack.call('GET', '/openapi.json')).body;
    assert.deepEqual(doc.paths['/v1/runs/{id}/terminate'].post.security, [{ bearer: ['admin'] }]);
    assert.deepEqual(doc.paths['/v1/runs/{id}/reset'].post.security, [{ bearer: ['runs:write'] }]);
    assert.deepEqual(doc.paths['/v1/runs/{id}/rerun'].post.security, [{ bearer: ['runs:write'] }]);
  });

  it('says completed only once Temporal closed the run; a run whose own record says completed shows running until then', async () => {
    const runId = await trigger(suite.stack, await sleeper());
    await waitForStatus(suite.stack, runId, 'waiting');
    // What a run writes when its last workflow task records the end, then fails before Temporal closes it.
    const { runId: executionId } = await suite.stack.client.workflow.getHandle(runId).describe();
    const now = new Date().toISOString();
    await suite.stack.deps.runs.record({
      runId,
      tenantId: 'default',
      workflowId: 'x',
      version: 1,
      startedAt: now,
      endedAt: now,
      seq: 99,
      recordAt: now,
      executionId,
      status: 'completed',
      steps: [],
      result: 1,
      error: null,
    });
    const detail = await suite.stack.call('GET', `/v1/runs/${runId}`);
    assert.deepEqual([detail.body.status, detail.body.endedAt], ['running', null]);
    assert.equal(await listed(runId, '&status=completed'), undefined);
    assert.equal((await listed(runId, '&status=running'))?.status, 'running');
    await suite.stack.call('POST', `/v1/runs/${runId}/terminate`, { reason: 'clean up' });

    const quick = await createWorkflow(suite.stack, {
      name: 'quick',
      steps: [{ id: 'one', type: 'transform', config: { expression: '1' } }],
    });
    const done = await trigger(suite.stack, quick);
    await waitFor('the list to show the run completed', async () =>
      (await listed(done))?.status === 'completed' ? true : undefined,
    );
    assert.equal(
      (await suite.stack.client.workflow.getHandle(done).describe()).status.name,
      'COMPLETED',
      'Temporal closed it before the index said so',
    );
  });

  it('resets a run to before a step: the new execution shows in the index and earlier steps do not run again', async () => {
    suite.receiver.accept('/a');
    suite.receiver.on('/b', (_req, n) => ({ status: 200, body: { n } }));
    const id = await createWorkflow(suite.stack, {
      name: 'resettable',
      steps: [
        { id: 'a', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/a` } },
        { id: 'pause', type: 'delay', config: { duration: '1s' } },
        { id: 'b', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/b` } },
        { id: 'out', type: 'transform', config: { expression: 'steps.b.output.body.n' } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const first = await waitForStatus(suite.stack, runId, 'completed');
    assert.equal(first.result, 1);
    const res = await suite.stack.call('POST', `/v1/runs/${runId}/reset`, { fromStep: 'b' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const again = await waitFor(
      'the index to show the new execution',
      async () => {
        const r = await suite.stack.call('GET', `/v1/runs/${runId}`);
        return r.body.status === 'completed' && r.body.result === 2 ? r.body : undefined;
      },
      60_000,
    );
    assert.equal(suite.receiver.requestsTo('/a').length, 1, 'step a ran once');
    assert.equal(suite.receiver.requestsTo('/b').length, 2);
    assert.equal(again.steps.find((s: { id: string }) => s.id === 'a').output.status, 200, 'a keeps its output');
    assert.equal((await listed(runId))?.status, 'completed');
    assert.equal(
      (await suite.stack.call('POST', `/v1/runs/${runId}/reset`, { fromStep: 'nope' })).body.code,
      'STEP_NOT_STARTED',
    );
  });

  it('refuses a reset (400) when an earlier step with side effects started in the same workflow task', async () => {
    suite.receiver.accept('/x', '/y');
    const id = await createWorkflow(suite.stack, {
      name: 'back to back',
      steps: [
        { id: 'x', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/x` } },
        { id: 'y', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/y` } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    await waitForStatus(suite.stack, runId, 'completed');
    const res = await suite.stack.call('POST', `/v1/runs/${runId}/reset`, { fromStep: 'y' });
    assert.deepEqual([res.status, res.body.code], [400, 'NO_RESET_POINT']);
    assert.equal(suite.receiver.requestsTo('/x').length, 1);
  });

  it('reruns a run with the same trigger payload, on the same version or the latest', async () => {
    const definition = { name: 'echo', steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger' } }] };
    const id = await createWorkflow(suite.stack, definition);
    const original = await trigger(suite.stack, id, { hello: 'again', n: [1, 2] });
    await waitForStatus(suite.stack, original, 'completed');
    assert.equal((await suite.stack.call('PUT', `/v1/workflows/${id}`, { ...definition, name: 'echo 2' })).status, 200);
    const same = await suite.stack.call('POST', `/v1/runs/${original}/rerun`, {});
    assert.equal(same.status, 202, JSON.stringify(same.body));
    assert.notEqual(same.body.runId, original);
    const rerun = await waitForStatus(suite.stack, same.body.runId, 'completed');
    assert.deepEqual([rerun.result, rerun.version], [{ hello: 'again', n: [1, 2] }, 1]);
    const latest = await suite.stack.call('POST', `/v1/runs/${original}/rerun`, { version: 'latest' });
    assert.equal((await waitForStatus(suite.stack, latest.body.runId, 'completed')).version, 2);
  });

  it('shows a run whose workflow task keeps failing with a problem, in lists (problem=true) and the metric, until it is terminated', async () => {
    const runId = `stuck-${Date.now()}`;
    await suite.stack.deps.runs.insertTriggered({
      id: runId,
      tenantId: 'default',
      workflowId: 'stuck',
      version: 1,
      startedAt: new Date(),
    });
    // No definition: the interpreter's first workflow task throws a TypeError, which Temporal retries.
    await suite.stack.client.workflow.start('interpreter', {
      taskQueue: suite.stack.config.TEMPORAL_TASK_QUEUE,
      workflowId: runId,
      args: [{ tenantId: 'default', workflowId: 'stuck', version: 1, trigger: null }],
      workflowTaskTimeout: '2s',
    });
    const shown = await waitFor(
      'the run to show a problem',
      async () => {
        const r = await suite.stack.call('GET', `/v1/runs/${runId}`);
        return r.body.problem ? r.body : undefined;
      },
      40_000,
    );
    assert.equal(shown.status, 'running');
    assert.ok(shown.problem.attempts >= 2, JSON.stringify(shown.problem));
    assert.ok(
      shown.problem.cause.length > 0 && !Number.isNaN(Date.parse(shown.problem.since)),
      JSON.stringify(shown.problem),
    );
    assert.ok(await listed(runId, '&problem=true'));
    assert.equal(await listed(runId, '&problem=false'), undefined);
    const metrics = await suite.stack.app.request('/metrics');
    assert.match(await metrics.text(), /minizaps_runs_with_problems [1-9]/);
    assert.equal((await suite.stack.call('POST', `/v1/runs/${runId}/terminate`, { reason: 'stuck' })).status, 202);
    const ended = (await suite.stack.call('GET', `/v1/runs/${runId}`)).body;
    assert.deepEqual([ended.status, ended.problem], ['terminated', null]);
  });

  it('a restarted reconciler goes on from the watermark its predecessor stored, and applying a close again changes nothing', async () => {
    const quick = await createWorkflow(suite.stack, {
      name: 'quick',
      steps: [{ id: 'one', type: 'transform', config: { expression: '1' } }],
    });
    const done = await trigger(suite.stack, quick);
    await waitFor('the run to be closed in the index', async () =>
      (await listed(done))?.status === 'completed' ? true : undefined,
    );
    const closedAt = (await suite.stack.client.workflow.getHandle(done).describe()).closeTime;
    assert.ok(closedAt);
    const deps = {
      client: suite.stack.client,
      closures: suite.stack.deps.runClosures,
      logger: createLogger('silent', 'test'),
    };
    const first = createReconciler(deps, { name: 'restart-test', overlapMs: 0 });
    assert.ok(await first.tick());
    const mark = await suite.stack.deps.runClosures.watermark('restart-test');
    assert.ok(mark.getTime() >= closedAt.getTime());

    const before = (
      await suite.stack.pool.query<{ updated_at: Date }>('SELECT updated_at FROM runs WHERE id = $1', [done])
    ).rows[0]?.updated_at;
    assert.equal(
      await suite.stack.deps.runClosures.applyClosures([
        {
          id: done,
          executionId: (await suite.stack.client.workflow.getHandle(done).describe()).runId,
          closeStatus: 'Completed',
          closedAt,
        },
      ]),
      0,
    );
    const afterwards = (
      await suite.stack.pool.query<{ updated_at: Date }>('SELECT updated_at FROM runs WHERE id = $1', [done])
    ).rows[0]?.updated_at;
    assert.deepEqual(afterwards, before);

    const restarted = createReconciler(deps, { name: 'restart-test', overlapMs: 1_000 });
    assert.deepEqual(
      await suite.stack.deps.runClosures.watermark('restart-test'),
      mark,
      'the watermark survives the restart',
    );
    const later = await trigger(suite.stack, quick);
    await waitFor('the later run to be closed in the index', async () =>
      (await listed(later))?.status === 'completed' ? true : undefined,
    );
    // A lost index write: the restarted reconciler's pass, from the stored watermark, repairs it.
    await suite.stack.pool.query('UPDATE runs SET closed_at = NULL, close_status = NULL WHERE id = $1', [later]);
    assert.ok(await restarted.tick());
    assert.equal((await listed(later))?.status, 'completed');
    const laterClosed = (await suite.stack.client.workflow.getHandle(later).describe()).closeTime;
    assert.ok(
      laterClosed && (await suite.stack.deps.runClosures.watermark('restart-test')).getTime() >= laterClosed.getTime(),
      'the watermark moved on',
    );
    const moved = await suite.stack.deps.runClosures.watermark('restart-test');
    await suite.stack.deps.runClosures.advance('restart-test', new Date(0));
    assert.deepEqual(
      await suite.stack.deps.runClosures.watermark('restart-test'),
      moved,
      'the watermark never moves back',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { api, report, useCluster, waitForRuns } from './cluster.js';
import { assertOncePerKey, countsPerKey } from './per-key.js';

describe('faults: killing the worker and the Temporal server', () => {
  const suite = useCluster();

  async function triggerMany(path: string, n: number): Promise<string[]> {
    suite.receiver.accept(`${path}/after`);
    const wf = await api(suite.cluster, 'POST', '/v1/workflows', {
      name: `faults ${path}`,
      steps: [
        {
          id: 'before',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}${path}/before` },
          retry: { initialInterval: '200ms', maxAttempts: 20 },
        },
        { id: 'wait', type: 'delay', config: { duration: '2s' } },
        {
          id: 'after',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}${path}/after` },
          retry: { initialInterval: '200ms', maxAttempts: 20 },
        },
      ],
    });
    assert.equal(wf.status, 201);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await api(suite.cluster, 'POST', `/v1/workflows/${wf.body.id}/runs`, { i });
      assert.equal(res.status, 202);
      ids.push(res.body.runId);
    }
    return ids;
  }

  /** Each run's two steps reached the receiver under their keys, once each but for what the faults may repeat. */
  function assertEachStepOnce(path: string, runIds: string[], faultEnds: number[]) {
    const [before, after] = ['before', 'after'].map((step) =>
      assertOncePerKey(
        suite.receiver,
        `${path}/${step}`,
        runIds.map((id) => `${id}:${step}`),
        faultEnds,
      ),
    );
    return { before: before!, after: after! };
  }
  const keysSeen = (path: string) => countsPerKey(suite.receiver, path).size;

  /** Kills the worker and returns when it was seen to exit. */
  async function killWorker(): Promise<number> {
    await suite.cluster.kill('worker');
    return Date.now();
  }

  it('SIGKILL of the worker during http steps and during delays: every run completes; each side effect arrives once, repeated at most once per kill it was in flight for', async () => {
    suite.receiver.on('/w/before', () => ({ status: 200, delayMs: 1_500 }));
    const runIds = await triggerMany('/w', 20);
    await waitFor('http steps in flight', async () =>
      suite.receiver.requestsTo('/w/before').length >= 5 ? true : undefined,
    );
    const kills = [await killWorker()];
    await suite.cluster.start('worker');
    await waitFor(
      'every run past its first step',
      async () => (keysSeen('/w/before') >= 20 ? true : undefined),
      60_000,
    );
    kills.push(await killWorker());
    await suite.cluster.start('worker');
    const runs = await waitForRuns(suite.cluster, runIds);
    const completed = runs.filter((r) => r.status === 'completed').length;
    const { before, after } = assertEachStepOnce('/w', runIds, kills);
    report('worker SIGKILL (http step, delay)', {
      runs: runIds.length,
      completed,
      kills: kills.length,
      beforeRequests: before.requests,
      beforeKeys: before.keys,
      beforeRepeated: before.repeated,
      beforeMaxPerKey: before.maxPerKey,
      afterRequests: after.requests,
      afterKeys: after.keys,
      afterRepeated: after.repeated,
    });
    assert.equal(completed, runIds.length);
  });

  it('SIGTERM: the worker finishes the http steps in flight before it exits, so none is sent twice', async () => {
    suite.receiver.on('/g/before', () => ({ status: 200, delayMs: 1_000 }));
    const runIds = await triggerMany('/g', 5);
    await waitFor('http steps in flight', async () =>
      suite.receiver.requestsTo('/g/before').length >= 5 ? true : undefined,
    );
    const exitCode = await suite.cluster.kill('worker', 'SIGTERM');
    await suite.cluster.start('worker');
    const runs = await waitForRuns(suite.cluster, runIds);
    // A graceful stop repeats nothing: no fault may excuse a second request.
    const { before, after } = assertEachStepOnce('/g', runIds, []);
    report('worker SIGTERM with steps in flight', {
      runs: 5,
      completed: runs.filter((r) => r.status === 'completed').length,
      beforeRequests: before.requests,
      afterRequests: after.requests,
      maxPerKey: Math.max(before.maxPerKey, after.maxPerKey),
      exitCode: String(exitCode),
    });
    assert.equal(exitCode, 0);
    assert.equal(before.requests, 5, 'no step in flight was retried');
    assert.ok(runs.every((r) => r.status === 'completed'));
  });

  it('the Temporal dev server killed mid-run and restarted on its DB file: every run completes; each side effect arrives once, repeated at most once if it was sent while the server was down', async () => {
    suite.receiver.accept('/t/before');
    const runIds = await triggerMany('/t', 20);
    await waitFor('runs under way', async () =>
      suite.receiver.requestsTo('/t/before').length >= 10 ? true : undefined,
    );
    await suite.cluster.killTemporal();
    await new Promise((r) => setTimeout(r, 2_000));
    await suite.cluster.startTemporal();
    // A step that ran while the server was down could not be recorded: it may run again, once.
    const back = Date.now();
    const runs = await waitForRuns(suite.cluster, runIds);
    const completed = runs.filter((r) => r.status === 'completed').length;
    const { before, after } = assertEachStepOnce('/t', runIds, [back]);
    report('Temporal server SIGKILL + restart', {
      runs: runIds.length,
      completed,
      beforeRequests: before.requests,
      beforeKeys: before.keys,
      beforeRepeated: before.repeated,
      afterRequests: after.requests,
      afterKeys: after.keys,
      afterRepeated: after.repeated,
    });
    assert.equal(completed, runIds.length);
  });
});

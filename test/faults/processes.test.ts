import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import type { Receiver } from '../helpers/receiver.js';
import { api, report, useCluster, waitForRuns } from './cluster.js';

/** Distinct idempotency keys a receiver path saw, with how often each came. */
const keysOf = (receiver: Receiver, path: string) => {
  const counts = new Map<string, number>();
  for (const r of receiver.requestsTo(path)) counts.set(String(r.headers['idempotency-key']), (counts.get(String(r.headers['idempotency-key'])) ?? 0) + 1);
  return counts;
};

describe('faults: killing the worker and the Temporal server', () => {
  const suite = useCluster();

  async function triggerMany(path: string, n: number): Promise<string[]> {
    const wf = await api(suite.cluster, 'POST', '/v1/workflows', {
      name: `faults ${path}`,
      steps: [
        { id: 'before', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}${path}/before` }, retry: { initialInterval: '200ms', maxAttempts: 20 } },
        { id: 'wait', type: 'delay', config: { duration: '2s' } },
        { id: 'after', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}${path}/after` }, retry: { initialInterval: '200ms', maxAttempts: 20 } },
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

  function assertEachStepOnce(path: string, runIds: string[]) {
    for (const step of ['before', 'after']) {
      const keys = keysOf(suite.receiver, `${path}/${step}`);
      assert.deepEqual([...keys.keys()].sort(), runIds.map((id) => `${id}:${step}`).sort(), `every run's ${step} step reached the receiver under its one key`);
    }
  }

  it('SIGKILL of the worker during http steps and during delays: every run completes, each side effect under one key', async () => {
    suite.receiver.on('/w/before', () => ({ status: 200, delayMs: 1_500 }));
    const runIds = await triggerMany('/w', 20);
    await waitFor('http steps in flight', async () => (suite.receiver.requestsTo('/w/before').length >= 5 ? true : undefined));
    await suite.cluster.kill('worker');
    await suite.cluster.start('worker');
    await waitFor('runs waiting on their delay', async () => (suite.receiver.requestsTo('/w/before').length >= 20 ? true : undefined), 60_000);
    await suite.cluster.kill('worker');
    await suite.cluster.start('worker');
    const runs = await waitForRuns(suite.cluster, runIds);
    const completed = runs.filter((r) => r.status === 'completed').length;
    assertEachStepOnce('/w', runIds);
    report('worker SIGKILL (http step, delay)', { runs: runIds.length, completed, requestsBefore: suite.receiver.requestsTo('/w/before').length, requestsAfter: suite.receiver.requestsTo('/w/after').length });
    assert.equal(completed, runIds.length);
  });

  it('SIGTERM: the worker finishes the http steps in flight before it exits, so none is sent twice', async () => {
    suite.receiver.on('/g/before', () => ({ status: 200, delayMs: 1_000 }));
    const runIds = await triggerMany('/g', 5);
    await waitFor('http steps in flight', async () => (suite.receiver.requestsTo('/g/before').length >= 5 ? true : undefined));
    const exitCode = await suite.cluster.kill('worker', 'SIGTERM');
    await suite.cluster.start('worker');
    const runs = await waitForRuns(suite.cluster, runIds);
    report('worker SIGTERM with steps in flight', { runs: 5, completed: runs.filter((r) => r.status === 'completed').length, requestsBefore: suite.receiver.requestsTo('/g/before').length, exitCode: String(exitCode) });
    assert.equal(exitCode, 0);
    assert.equal(suite.receiver.requestsTo('/g/before').length, 5, 'no step in flight was retried');
    assert.ok(runs.every((r) => r.status === 'completed'));
  });

  it('the Temporal dev server killed mid-run and restarted on its DB file: every run completes', async () => {
    const runIds = await triggerMany('/t', 20);
    await waitFor('runs under way', async () => (suite.receiver.requestsTo('/t/before').length >= 10 ? true : undefined));
    await suite.cluster.killTemporal();
    await new Promise((r) => setTimeout(r, 2_000));
    await suite.cluster.startTemporal();
    const runs = await waitForRuns(suite.cluster, runIds);
    const completed = runs.filter((r) => r.status === 'completed').length;
    assertEachStepOnce('/t', runIds);
    report('Temporal server SIGKILL + restart', { runs: runIds.length, completed, requestsBefore: suite.receiver.requestsTo('/t/before').length, requestsAfter: suite.receiver.requestsTo('/t/after').length });
    assert.equal(completed, runIds.length);
  });
});

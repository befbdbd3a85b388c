import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { api, report, useCluster, waitForRuns } from './cluster.js';
import { assertOncePerKey, countsPerKey } from './per-key.js';

describe('faults: killing the API, stopping PostgreSQL', () => {
  const suite = useCluster();

  it('SIGKILL of the API during a burst of 500 triggers: every acknowledged trigger has exactly one run, retries create no duplicates', async () => {
    const wf = await api(suite.cluster, 'POST', '/v1/workflows', {
      name: 'burst',
      steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger.i' } }],
    });
    const keys = Array.from({ length: 500 }, (_, i) => `order-${i}`);
    const acked = new Map<string, string>();
    const send = async (key: string) => {
      const res = await api(
        suite.cluster,
        'POST',
        `/v1/workflows/${wf.body.id}/runs`,
        { i: Number(key.slice(6)) },
        { 'idempotency-key': key },
      );
      if (res.status === 202) acked.set(key, res.body.runId);
      return res.status;
    };
    let killed = false;
    let failedWhileDown = 0;
    const queue = [...keys];
    const workers = Array.from({ length: 10 }, async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        if (!killed && acked.size >= 200) {
          killed = true;
          await suite.cluster.kill('api');
        }
        if ((await send(key)) !== 202) failedWhileDown += 1;
      }
    });
    await Promise.all(workers);
    const unacked = keys.filter((k) => !acked.has(k));
    await suite.cluster.start('api');
    // The caller retries what was not acknowledged, and repeats some that were, with the same keys.
    for (const key of [...unacked, ...keys.slice(0, 50)]) {
      const before = acked.get(key);
      assert.equal(await send(key), 202);
      if (before) assert.equal(acked.get(key), before, 'a repeated key answers the same run');
    }
    const runIds = [...new Set(acked.values())];
    assert.equal(runIds.length, 500);
    const runs = await waitForRuns(suite.cluster, runIds);
    const inTemporal = await suite.cluster.client.workflow.count(`MiniZapsWorkflowId = '${wf.body.id}'`);
    const listed = await api(suite.cluster, 'GET', `/v1/runs?workflowId=${wf.body.id}&limit=200`);
    report('API SIGKILL during 500 triggers', {
      triggers: 500,
      refusedWhileDown: failedWhileDown,
      retried: unacked.length,
      runsInTemporal: inTemporal.count,
      completed: runs.filter((r) => r.status === 'completed').length,
    });
    assert.equal(inTemporal.count, 500, 'exactly one run per key in Temporal');
    assert.ok(runs.every((r) => r.status === 'completed'));
    assert.equal(listed.status, 200);
  });

  it('PostgreSQL stopped during runs: steps keep executing (each once, after the stop), the API answers 503 problem+json, and everything recovers by itself', async () => {
    suite.receiver.accept('/db/call');
    // Every run holds at the gate until PostgreSQL has stopped: all 20 are in flight when it does,
    // however long triggering them took.
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    suite.receiver.on('/db/gate', () => ({ status: 200, body: { ok: true }, until: gate }));
    const wf = await api(suite.cluster, 'POST', '/v1/workflows', {
      name: 'db outage',
      steps: [
        {
          id: 'gate',
          type: 'http',
          timeout: '5m',
          config: { method: 'POST', url: `${suite.receiver.url}/db/gate` },
        },
        { id: 'call', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/db/call` } },
        { id: 'done', type: 'transform', config: { expression: "'ok'" } },
      ],
    });
    const runIds: string[] = [];
    for (let i = 0; i < 20; i++)
      runIds.push((await api(suite.cluster, 'POST', `/v1/workflows/${wf.body.id}/runs`, { i })).body.runId);
    await waitFor(
      'every run to wait at the gate',
      async () => (countsPerKey(suite.receiver, '/db/gate').size >= 20 ? true : undefined),
      120_000,
    );
    await suite.cluster.stopPostgres();
    const stoppedAt = Date.now();
    const down = await api(suite.cluster, 'GET', '/v1/runs?limit=5');
    const triggerDown = await api(suite.cluster, 'POST', `/v1/workflows/${wf.body.id}/runs`, {});
    const ready = await api(suite.cluster, 'GET', '/readyz');
    openGate();
    await waitFor(
      'every run to make its call while the database is down',
      async () => (countsPerKey(suite.receiver, '/db/call').size >= 20 ? true : undefined),
      60_000,
    );
    const restartAt = Date.now();
    await suite.cluster.startPostgres();
    const runs = await waitForRuns(suite.cluster, runIds);
    const calls = suite.receiver.requestsTo('/db/call').map((r) => r.at);
    const whileDown = calls.filter((at) => at >= stoppedAt && at < restartAt).length;
    const perKey = assertOncePerKey(
      suite.receiver,
      '/db/call',
      runIds.map((id) => `${id}:call`),
    );
    const gated = assertOncePerKey(
      suite.receiver,
      '/db/gate',
      runIds.map((id) => `${id}:gate`),
    );
    report('PostgreSQL stopped during 20 runs', {
      runs: 20,
      gateRequests: gated.requests,
      requests: perKey.requests,
      keys: perKey.keys,
      maxPerKey: perKey.maxPerKey,
      sideEffectsWhileDown: whileDown,
      firstCallAfterStopMs: Math.min(...calls) - stoppedAt,
      lastCallBeforeRestartMs: restartAt - Math.max(...calls),
      apiStatusWhileDown: down.status,
      completed: runs.filter((r) => r.status === 'completed').length,
    });
    assert.equal(whileDown, 20, 'all 20 calls were made after PostgreSQL had stopped and before it started again');
    assert.equal(down.status, 503);
    assert.equal(down.contentType, 'application/problem+json');
    assert.equal(down.body.code, 'UNAVAILABLE');
    assert.equal(triggerDown.status, 503);
    assert.equal(ready.status, 503);
    assert.ok(
      runs.every((r) => r.status === 'completed'),
      'the run index caught up',
    );
    assert.equal((await api(suite.cluster, 'GET', '/readyz')).status, 200);
  });
});

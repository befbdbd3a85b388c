import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { api, report, useCluster, waitForRuns } from './cluster.js';
import { assertOncePerKey } from './per-key.js';

// Apart from api-and-database.test.ts: each file has its own time budget, and the API burst there takes most of one.
describe('faults: PostgreSQL crashing', () => {
  const suite = useCluster();

  it('SIGKILL of PostgreSQL during a stream of triggers: it recovers from its crash, and every acknowledged trigger ends as exactly one completed run', async () => {
    suite.receiver.accept('/crash/call');
    const wf = await api(suite.cluster, 'POST', '/v1/workflows', {
      name: 'db crash',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/crash/call`, body: { i: '{{ trigger.i }}' } },
        },
        { id: 'done', type: 'transform', config: { expression: 'trigger.i' } },
      ],
    });
    assert.equal(wf.status, 201);
    const keys = Array.from({ length: 60 }, (_, i) => `crash-${i}`);
    const acked = new Map<string, string>();
    const send = async (key: string) => {
      const res = await api(
        suite.cluster,
        'POST',
        `/v1/workflows/${wf.body.id}/runs`,
        { i: Number(key.slice(6)) },
        { 'idempotency-key': key },
      );
      if (res.status === 202) {
        const before = acked.get(key);
        if (before) assert.equal(res.body.runId, before, `a repeated ${key} answers the same run`);
        acked.set(key, res.body.runId);
      }
      return res.status;
    };
    let killedPid = 0;
    let killedAt = 0;
    let refusedWhileDown = 0;
    const queue = [...keys];
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
          if (!killedAt && acked.size >= 20) {
            killedAt = Date.now();
            killedPid = await suite.cluster.crashPostgres();
          }
          if ((await send(key)) !== 202) refusedWhileDown += 1;
        }
      }),
    );
    const ackedWhileDown = acked.size;
    await suite.cluster.startPostgres();
    // The caller retries what was not acknowledged, and repeats some that were, with the same keys.
    for (const key of [...keys.filter((k) => !acked.has(k)), ...keys.slice(0, 10)]) {
      await waitFor(`${key} to be acknowledged`, async () => ((await send(key)) === 202 ? true : undefined), 60_000);
    }
    const runIds = keys.map((k) => acked.get(k) ?? 'missing');
    const runs = await waitForRuns(suite.cluster, runIds);
    const inTemporal = await suite.cluster.client.workflow.count(`MiniZapsWorkflowId = '${wf.body.id}'`);
    const listed = await api(suite.cluster, 'GET', `/v1/runs?workflowId=${wf.body.id}&limit=200`);
    const perKey = assertOncePerKey(
      suite.receiver,
      '/crash/call',
      runIds.map((id) => `${id}:call`),
    );
    report('PostgreSQL SIGKILL during 60 triggers', {
      triggers: 60,
      postmasterKilled: killedPid,
      ackedBeforeRestart: ackedWhileDown,
      refusedWhileDown,
      runsInTemporal: inTemporal.count,
      listed: listed.body?.items?.length ?? 0,
      completed: runs.filter((r) => r.status === 'completed').length,
      requests: perKey.requests,
      maxPerKey: perKey.maxPerKey,
    });
    assert.ok(killedPid > 0 && refusedWhileDown > 0, 'the crash happened while triggers were coming in');
    assert.equal(new Set(runIds).size, 60, 'one run per key');
    assert.equal(inTemporal.count, 60, 'exactly one run per key in Temporal');
    assert.deepEqual(
      runs.map((r) => r.status),
      runIds.map(() => 'completed'),
    );
    assert.deepEqual(
      runs.map((r) => r.result),
      keys.map((k) => Number(k.slice(6))),
      'each run carried its own trigger',
    );
    assert.equal(listed.body.items.length, 60, 'the index lists each run once');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { api, report, useCluster } from './cluster.js';

/** Temporal's own statuses of the runs, as the index should show them. */
const TEMPORAL_STATUS: Record<string, string> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  TERMINATED: 'terminated',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'timed_out',
};

describe('faults: the run index stays exact when the worker dies', () => {
  const suite = useCluster();

  async function workflow(steps: unknown[]): Promise<string> {
    const res = await api(suite.cluster, 'POST', '/v1/workflows', { name: 'index faults', steps });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }

  async function triggerMany(workflowId: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await api(suite.cluster, 'POST', `/v1/workflows/${workflowId}/runs`, { i });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      ids.push(res.body.runId);
    }
    return ids;
  }

  /** The index as lists show it (lists never ask Temporal: they show what the index holds). */
  async function listed(
    workflowId: string,
  ): Promise<Map<string, { status: string; endedAt: string | null; steps?: { status: string }[] }>> {
    const res = await api(suite.cluster, 'GET', `/v1/runs?workflowId=${workflowId}&limit=200`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return new Map(res.body.items.map((r: { id: string; status: string; endedAt: string | null }) => [r.id, r]));
  }

  async function closedInTemporal(runIds: string[]): Promise<Map<string, string>> {
    const statuses = new Map<string, string>();
    await waitFor(
      `${runIds.length} runs to close in Temporal`,
      async () => {
        for (const id of runIds) {
          if (statuses.has(id)) continue;
          const d = await suite.cluster.client.workflow
            .getHandle(id)
            .describe()
            .catch(() => undefined);
          if (d && d.status.name !== 'RUNNING' && d.status.name !== 'CONTINUED_AS_NEW')
            statuses.set(id, TEMPORAL_STATUS[d.status.name] ?? d.status.name);
        }
        return statuses.size === runIds.length ? true : undefined;
      },
      180_000,
    );
    return statuses;
  }

  it('a worker killed as its runs close leaves no run reported wrongly: once a worker is back, the index matches Temporal within seconds', async () => {
    const wf = await workflow([{ id: 'shape', type: 'transform', config: { expression: '{ "i": trigger.i }' } }]);
    const runIds = await triggerMany(wf, 30);
    const temporal = await closedInTemporal(runIds);
    await suite.cluster.kill('worker');
    const whileDown = await listed(wf);
    // Whatever the index held when the worker died, it never reported a run ended that Temporal had not closed.
    for (const [id, row] of whileDown)
      if (row.status !== 'running') assert.equal(row.status, temporal.get(id), `run ${id}`);
    await suite.cluster.start('worker');
    const restartedAt = Date.now();
    await waitFor(
      'the index to match Temporal',
      async () => {
        const rows = await listed(wf);
        return runIds.every((id) => rows.get(id)?.status === temporal.get(id) && rows.get(id)?.endedAt)
          ? true
          : undefined;
      },
      120_000,
    );
    report('worker SIGKILL as runs close', {
      runs: runIds.length,
      endedInIndexWhileDown: [...whileDown.values()].filter((r) => r.status !== 'running').length,
      secondsToExact: ((Date.now() - restartedAt) / 1000).toFixed(1),
    });
  });

  it('a worker killed three times during 60 runs with http steps: every run ends in the index exactly as in Temporal, with every step', async () => {
    suite.receiver.on('/index-faults', () => ({ status: 200, body: { ok: true }, delayMs: 50 }));
    const wf = await workflow([
      {
        id: 'call',
        type: 'http',
        config: { method: 'POST', url: `${suite.receiver.url}/index-faults` },
        retry: { initialInterval: '200ms', maxAttempts: 20 },
      },
      { id: 'shape', type: 'transform', config: { expression: '{ "i": trigger.i, "ok": steps.call.output.body.ok }' } },
    ]);
    const triggered = triggerMany(wf, 60);
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 700));
      await suite.cluster.kill('worker');
      await suite.cluster.start('worker');
    }
    const runIds = await triggered;
    const temporal = await closedInTemporal(runIds);
    await waitFor(
      'the index to match Temporal',
      async () => {
        const rows = await listed(wf);
        return runIds.every((id) => rows.get(id)?.status === temporal.get(id) && rows.get(id)?.endedAt)
          ? true
          : undefined;
      },
      30_000,
    );
    for (const id of runIds) {
      const run = await api(suite.cluster, 'GET', `/v1/runs/${id}`);
      assert.equal(
        run.body.status,
        'completed',
        `run ${id}: ${JSON.stringify(run.body.error)} ${JSON.stringify(run.body.steps)}`,
      );
      assert.deepEqual(
        run.body.steps.map((s: { id: string; status: string }) => [s.id, s.status]),
        [
          ['call', 'completed'],
          ['shape', 'completed'],
        ],
        `run ${id}`,
      );
      assert.equal(run.body.result.ok, true);
    }
    report('worker SIGKILL x3 during 60 runs', {
      runs: runIds.length,
      completedInTemporal: [...temporal.values()].filter((s) => s === 'completed').length,
      requests: suite.receiver.requestsTo('/index-faults').length,
    });
  });
});

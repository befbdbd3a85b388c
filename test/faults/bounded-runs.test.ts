import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { api, report, useCluster, waitForRuns } from './cluster.js';
import { assertOncePerKey } from './per-key.js';

const { History } = proto.temporal.api.history.v1;
const MiB = 1024 * 1024;
// The default per-step output bound (STEP_OUTPUT_MAX_BYTES), which the cluster leaves unset.
const STEP_OUTPUT_MAX_BYTES = 8 * MiB;

const HOSTILE = {
  'endless recursion': '($f := function($n){ $f($n + 1) }; $f(0))',
  'long reduce': '$reduce([1..90000], function($a, $b){ $a + $b })',
  'long map': '$sum([1..90000].($ * 2))',
  'deep non-tail recursion': '($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000000))',
  'multi-megabyte value': '$pad("x", 50000000)',
  'doubling string': '($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f("ab", 40))',
};

describe('faults: hostile workflows against a worker process', () => {
  const suite = useCluster();

  async function start(definition: unknown, payload: unknown = {}): Promise<string> {
    const wf = await api(suite.cluster, 'POST', '/v1/workflows', definition);
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const run = await api(suite.cluster, 'POST', `/v1/workflows/${wf.body.id}/runs`, payload);
    assert.equal(run.status, 202, JSON.stringify(run.body));
    return run.body.runId;
  }

  /** The identities of the workers that completed a run's workflow tasks (`pid@host` by default). */
  async function workflowTaskWorkers(runId: string): Promise<Set<string>> {
    const history = await suite.cluster.client.workflow.getHandle(runId).fetchHistory();
    return new Set(
      (history.events ?? []).flatMap((e) =>
        e.workflowTaskCompletedEventAttributes?.identity ? [e.workflowTaskCompletedEventAttributes.identity] : [],
      ),
    );
  }

  it('poison pills: 12 runs of hostile expressions back to back each fail EXPRESSION_LIMIT, and the same worker process (same pid, alive) then completes a normal run', async () => {
    const worker = suite.cluster.process('worker');
    assert.ok(worker.alive);
    const hostile = [...Object.entries(HOSTILE), ...Object.entries(HOSTILE)];
    const runIds: string[] = [];
    for (const [name, expression] of hostile)
      runIds.push(await start({ name, steps: [{ id: 'evil', type: 'transform', config: { expression } }] }));
    const started = Date.now();
    const runs = await waitForRuns(suite.cluster, runIds, 120_000);
    const seconds = (Date.now() - started) / 1000;
    const normal = await start({
      name: 'normal',
      steps: [{ id: 'sum', type: 'transform', config: { expression: '$sum([1..100])' } }],
    });
    const [done] = await waitForRuns(suite.cluster, [normal]);
    const after = suite.cluster.process('worker');
    const workers = await workflowTaskWorkers(normal);
    report('poison pills against a worker process', {
      runs: runs.length,
      failedExpressionLimit: runs.filter((r) => r.status === 'failed' && r.error?.code === 'EXPRESSION_LIMIT').length,
      secondsToFailAll: seconds.toFixed(1),
      workerPid: worker.pid,
      pidAfter: after.pid,
      alive: String(after.alive),
    });
    runs.forEach((run, i) => {
      assert.equal(run.status, 'failed', hostile[i]?.[0]);
      assert.equal(run.error?.code, 'EXPRESSION_LIMIT', `${hostile[i]?.[0]}: ${run.error?.message}`);
    });
    assert.equal(done?.status, 'completed');
    assert.equal(done?.result, 5050);
    assert.deepEqual(after, worker, 'the same worker process, still running');
    assert.deepEqual(
      [...workers].map((identity) => identity.split('@')[0]),
      [String(worker.pid)],
      'that process completed the normal run',
    );
  });

  it('an http response above STEP_OUTPUT_MAX_BYTES fails OUTPUT_TOO_LARGE after exactly one request; a 5 MB one completes after exactly one, its history under 100 KB', async () => {
    suite.receiver.on('/oversized', () => ({ status: 200, body: { blob: 'z'.repeat(STEP_OUTPUT_MAX_BYTES + MiB) } }));
    const big = { items: Array.from({ length: 5000 }, (_, i) => ({ i, text: 'y'.repeat(1000) })) };
    suite.receiver.on('/five-mb', () => ({ status: 200, body: big }));
    const oversized = await start({
      name: 'oversized',
      steps: [{ id: 'fetch', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/oversized` } }],
    });
    const large = await start({
      name: 'five megabytes',
      steps: [
        { id: 'fetch', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/five-mb` } },
        { id: 'count', type: 'transform', config: { expression: '$count(steps.fetch.output.body.items)' } },
      ],
    });
    const [tooLarge, completed] = await waitForRuns(suite.cluster, [oversized, large], 120_000);
    // A run that looped would send again within a few workflow-task retries: give it the time to.
    await new Promise((r) => setTimeout(r, 3_000));
    const history = await suite.cluster.client.workflow.getHandle(large).fetchHistory();
    const historyBytes = History.encode(history).finish().length;
    const read = await api(suite.cluster, 'GET', `/v1/runs/${large}`);
    const tooLargeCounts = assertOncePerKey(suite.receiver, '/oversized', [`${oversized}:fetch`]);
    const largeCounts = assertOncePerKey(suite.receiver, '/five-mb', [`${large}:fetch`]);
    report('oversized http outputs against a worker process', {
      oversizedStatus: tooLarge?.status ?? 'missing',
      oversizedRequests: tooLargeCounts.requests,
      fiveMbStatus: completed?.status ?? 'missing',
      fiveMbRequests: largeCounts.requests,
      historyBytes,
    });
    assert.equal(tooLarge?.status, 'failed');
    assert.equal(tooLarge?.error?.code, 'OUTPUT_TOO_LARGE');
    assert.equal(tooLarge?.steps[0]?.attempts, 1);
    assert.equal(tooLargeCounts.requests, 1);
    assert.equal(completed?.status, 'completed');
    assert.equal(completed?.result, 5000);
    assert.equal(largeCounts.requests, 1);
    assert.ok(historyBytes < 100_000, `history is ${historyBytes} bytes`);
    assert.equal(read.body.steps[0].output.body.items.length, 5000, 'the output is readable through the API');
    assert.ok(suite.cluster.process('worker').alive);
  });
});

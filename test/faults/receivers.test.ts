import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { assertPacedAtMost } from '../helpers/pacing.js';
import { api, report, useCluster, waitForRuns } from './cluster.js';

describe('faults: flaky and failing receivers', () => {
  const suite = useCluster();

  async function triggerAll(definition: unknown, n: number): Promise<{ workflowId: string; runIds: string[] }> {
    const wf = await api(suite.cluster, 'POST', '/v1/workflows', definition);
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    // Ten callers at a time: these scenarios are about the receiver, the burst of triggers is api-and-database's.
    const runIds: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = next++; i < n; i = next++) {
          const res = await api(suite.cluster, 'POST', `/v1/workflows/${wf.body.id}/runs`, { i });
          assert.equal(res.status, 202, `trigger ${i}: ${JSON.stringify(res.body)} (0: no answer within 15 s)`);
          runIds[i] = String(res.body.runId);
        }
      }),
    );
    return { workflowId: wf.body.id, runIds };
  }

  it('a flaky receiver (50% 500s, some timeouts) for 200 runs: every run completes and its attempts are recorded', async () => {
    // Deterministic flakiness: every request's fate comes from a counter, not from chance.
    let n = 0;
    suite.receiver.on('/flaky', () => {
      n += 1;
      if (n % 20 === 0) return { status: 200, delayMs: 3_000 };
      return n % 2 === 0 ? { status: 500 } : { status: 200, body: { ok: true } };
    });
    const { runIds } = await triggerAll(
      {
        name: 'flaky',
        steps: [
          {
            id: 'call',
            type: 'http',
            config: { method: 'POST', url: `${suite.receiver.url}/flaky` },
            timeout: '1s',
            retry: { maxAttempts: 30, initialInterval: '100ms', backoffCoefficient: 1.5, maximumInterval: '1s' },
          },
        ],
      },
      200,
    );
    const runs = await waitForRuns(suite.cluster, runIds, 300_000);
    const perKey = new Map<string, number>();
    for (const r of suite.receiver.requestsTo('/flaky'))
      perKey.set(String(r.headers['idempotency-key']), (perKey.get(String(r.headers['idempotency-key'])) ?? 0) + 1);
    const attempts = runs.map((r) => r.steps[0]?.attempts ?? 0);
    // An attempt can time out before its request reaches the receiver (a busy machine), never the reverse.
    const seen = runIds.map((id) => perKey.get(`${id}:call`) ?? 0);
    const unaccounted = seen.filter((n, i) => n === 0 || n > (attempts[i] ?? 0)).length;
    const attemptsWithoutRequest = attempts.reduce((sum, a, i) => sum + a - (seen[i] ?? 0), 0);
    report('flaky receiver, 200 runs', {
      runs: 200,
      completed: runs.filter((r) => r.status === 'completed').length,
      requests: suite.receiver.requestsTo('/flaky').length,
      attemptsRecorded: attempts.reduce((a, b) => a + b, 0),
      maxAttempts: Math.max(...attempts),
      attemptsWithoutRequest,
    });
    assert.ok(runs.every((r) => r.status === 'completed'));
    assert.ok(
      attempts.some((a) => a > 1),
      'some runs needed retries',
    );
    assert.equal(
      unaccounted,
      0,
      "every run's requests reached the receiver under its key, and each was a recorded attempt",
    );
    assert.ok(attemptsWithoutRequest <= 5, `${attemptsWithoutRequest} attempts never reached the receiver`);
  });

  it('a permanently failing receiver: runs become dead letters; once fixed, a bulk re-drive completes every run and no completed step runs twice', async () => {
    let fixed = false;
    suite.receiver.on('/broken/first', () => ({ status: 200, body: { ok: true } }));
    suite.receiver.on('/broken/second', () => (fixed ? { status: 200, body: { ok: true } } : { status: 503 }));
    const { workflowId, runIds } = await triggerAll(
      {
        name: 'broken receiver',
        steps: [
          { id: 'first', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/broken/first` } },
          {
            id: 'second',
            type: 'http',
            config: { method: 'POST', url: `${suite.receiver.url}/broken/second` },
            retry: { maxAttempts: 3, initialInterval: '100ms' },
          },
        ],
      },
      30,
    );
    const open = await waitFor(
      '30 dead letters',
      async () => {
        const groups = await api(suite.cluster, 'GET', `/v1/dead-letters/groups?workflowId=${workflowId}`);
        return groups.body?.items?.[0]?.count === 30 ? groups.body.items[0] : undefined;
      },
      120_000,
    );
    fixed = true;
    const fixedAt = Date.now();
    const bulk = await api(suite.cluster, 'POST', '/v1/dead-letters/redrive', {
      workflowId,
      stepId: 'second',
      errorCode: 'HTTP_503',
      ratePerSecond: 10,
    });
    assert.equal(bulk.status, 202);
    const op = await suite.cluster.client.workflow.getHandle(bulk.body.operationId).result();
    const runs = await waitForRuns(suite.cluster, runIds);
    const firstKeys = new Set(suite.receiver.requestsTo('/broken/first').map((r) => r.headers['idempotency-key']));
    const redriven = suite.receiver
      .requestsTo('/broken/second')
      .filter((r) => r.at >= fixedAt)
      .map((r) => r.at);
    report('permanently failing receiver, 30 runs', {
      runs: 30,
      deadLetters: open.count,
      redriven: op.redriven,
      completed: runs.filter((r) => r.status === 'completed').length,
      firstStepRequests: suite.receiver.requestsTo('/broken/first').length,
      redrivenRequests: redriven.length,
      redriveSpanMs: Math.max(...redriven) - Math.min(...redriven),
    });
    assert.equal(op.redriven, 30);
    assert.ok(runs.every((r) => r.status === 'completed'));
    assert.equal(suite.receiver.requestsTo('/broken/first').length, 30, 'the completed first step never ran again');
    assert.equal(firstKeys.size, 30);
    assert.equal(redriven.length, 30, 'one request per re-driven run');
    // Thirty at ten a second take two seconds at least from the moment the receiver was fixed.
    assertPacedAtMost(redriven, 10, fixedAt);
  });
});

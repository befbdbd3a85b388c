import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import type { ReceivedRequest } from '../helpers/receiver.js';
import { useStack } from '../helpers/use-stack.js';

/** How often a run asked to start its failure workflow, from its own history. */
async function failureStarts(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startFailureRun',
  ).length;
}

const bodyOf = (r: ReceivedRequest) => JSON.parse(r.body) as { failedRun: Record<string, unknown>; breach?: unknown };

describe('failure workflows and SLAs (real Temporal, real PostgreSQL)', () => {
  const suite = useStack({ env: { PUBLIC_URL: 'https://zaps.example.com/' } });
  let notify: string;
  /** The failure workflow's requests about one failed run. */
  const noticesOf = (runId: string) =>
    suite.receiver.requestsTo('/failure').filter((r) => bodyOf(r).failedRun.id === runId);

  before(async () => {
    suite.receiver.accept('/failure', '/ok', '/failing-failure');
    suite.receiver.on('/down', () => ({ status: 503, body: { error: 'down' } }));
    notify = await createWorkflow(suite.stack, {
      name: 'notify',
      steps: [
        {
          id: 'post',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/failure`, body: '{{ trigger }}' },
        },
      ],
    });
  });

  const parking = (onFailure?: unknown) => ({
    name: 'parks',
    ...(onFailure ? { onFailure } : {}),
    steps: [
      { id: 'first', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/ok` } },
      {
        id: 'second',
        type: 'http',
        config: { method: 'POST', url: `${suite.receiver.url}/down` },
        retry: { maxAttempts: 1 },
      },
    ],
  });

  it('a run that parks starts its failure workflow once, with the failed run; a redrive that fails again starts it again; a discard starts nothing more', async () => {
    const id = await createWorkflow(suite.stack, parking({ workflowId: notify }));
    const runId = await trigger(suite.stack, id);
    const first = await waitFor('the failure workflow to post', async () => noticesOf(runId)[0], 30_000);
    const { failedRun } = bodyOf(first);
    assert.equal(failedRun.id, runId);
    assert.equal(failedRun.workflowId, id);
    assert.equal(failedRun.workflowName, 'parks');
    assert.equal(failedRun.version, 1);
    assert.equal(failedRun.status, 'failed');
    assert.equal(failedRun.failedStep, 'second');
    assert.equal((failedRun.error as { code: string }).code, 'HTTP_503');
    assert.equal(failedRun.url, `https://zaps.example.com/ui#/runs/${runId}`);
    assert.ok(!Number.isNaN(Date.parse(String(failedRun.startedAt))));
    await waitForStatus(suite.stack, runId, 'failed');

    const dl = await waitFor('the dead letter', async () => {
      const res = await suite.stack.call('GET', `/v1/dead-letters?limit=200&status=open`);
      return res.body.items.find((d: { runId: string }) => d.runId === runId);
    });
    assert.equal((await suite.stack.call('POST', `/v1/dead-letters/${dl.id}/redrive`, {})).status, 202);
    await waitFor('a second notice after the redrive failed again', async () => noticesOf(runId)[1], 30_000);

    const again = await waitFor('the second dead letter', async () => {
      const res = await suite.stack.call('GET', `/v1/dead-letters?limit=200&status=open`);
      return res.body.items.find((d: { runId: string; id: string }) => d.runId === runId && d.id !== dl.id);
    });
    assert.equal((await suite.stack.call('DELETE', `/v1/dead-letters/${again.id}?reason=done`)).status, 204);
    const handle = suite.stack.client.workflow.getHandle(runId);
    await assert.rejects(handle.result());
    assert.equal(await failureStarts(handle), 2, 'two failures, two starts: the discard announced nothing more');
    const runs = await suite.stack.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM runs WHERE source->>'failedRunId' = $1",
      [runId],
    );
    assert.equal(Number(runs.rows[0]?.n), 2);
    assert.equal(noticesOf(runId).length, 2);
  });

  it('a run that ends at a fail step names that step; the failure run is listed with its source', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'gives up',
      onFailure: { workflowId: notify, version: 1 },
      steps: [{ id: 'stop', type: 'fail', config: { error: 'NOPE', message: 'no' } }],
    });
    const runId = await trigger(suite.stack, id);
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'failed');
    const notice = await waitFor('the notice', async () => noticesOf(runId)[0], 30_000);
    assert.equal(bodyOf(notice).failedRun.failedStep, 'stop');
    assert.deepEqual(bodyOf(notice).failedRun.error, { code: 'NOPE', message: 'no' });
    const listed = await suite.stack.call('GET', `/v1/runs?workflowId=${notify}&source=failure&limit=200`);
    assert.ok(listed.body.items.some((r: { source: { failedRunId?: string } }) => r.source.failedRunId === runId));
  });

  it('a failure workflow that fails starts nothing further, though it names one', async () => {
    const failing = await createWorkflow(suite.stack, {
      name: 'failing failure workflow',
      onFailure: { workflowId: notify },
      steps: [
        { id: 'tell', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/failing-failure` } },
        { id: 'stop', type: 'fail' },
      ],
    });
    const id = await createWorkflow(suite.stack, {
      name: 'fails',
      onFailure: { workflowId: failing },
      steps: [{ id: 'stop', type: 'fail' }],
    });
    const runId = await trigger(suite.stack, id);
    await waitForEnd(suite.stack, runId);
    const started = await waitFor('the failure run to fail', async () => {
      const res = await suite.stack.call('GET', `/v1/runs?workflowId=${failing}&limit=10`);
      const run = res.body.items.find((r: { source: { failedRunId?: string } }) => r.source?.failedRunId === runId);
      return run?.status === 'failed' ? run : undefined;
    });
    assert.equal(suite.receiver.requestsTo('/failing-failure').length, 1);
    const handle = suite.stack.client.workflow.getHandle(started.id);
    await assert.rejects(handle.result());
    assert.equal(await failureStarts(handle), 0);
    assert.equal(noticesOf(started.id).length, 0);
  });

  it("the tenant's default applies to a workflow that names none, and not once it is cleared", async () => {
    const set = await suite.stack.call('PUT', '/v1/settings', { onFailure: { workflowId: notify } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.onFailure, { workflowId: notify });
    assert.deepEqual((await suite.stack.call('GET', '/v1/settings')).body.onFailure, { workflowId: notify });
    const id = await createWorkflow(suite.stack, {
      name: 'names none',
      steps: [{ id: 'stop', type: 'fail' }],
    });
    const runId = await trigger(suite.stack, id);
    await waitForEnd(suite.stack, runId);
    await waitFor('the default failure workflow to post', async () => noticesOf(runId)[0], 30_000);
    const audit = await suite.stack.call('GET', '/v1/audit?limit=50');
    assert.ok(
      audit.body.items.some((e: { route: string; method: string }) => e.route === '/v1/settings' && e.method === 'PUT'),
    );

    assert.equal((await suite.stack.call('PUT', '/v1/settings', { onFailure: null })).status, 200);
    const later = await trigger(suite.stack, id);
    await waitForEnd(suite.stack, later);
    assert.equal(await failureStarts(suite.stack.client.workflow.getHandle(later)), 0);
  });

  it('a run past its timeout starts its failure workflow as timed_out', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'too slow',
      timeout: '1s',
      onFailure: { workflowId: notify },
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    });
    const runId = await trigger(suite.stack, id);
    assert.equal((await waitForEnd(suite.stack, runId)).status, 'timed_out');
    const notice = await waitFor('the notice', async () => noticesOf(runId)[0], 30_000);
    assert.equal(bodyOf(notice).failedRun.status, 'timed_out');
    assert.equal((bodyOf(notice).failedRun.error as { code: string }).code, 'RUN_TIMED_OUT');
  });

  it('an SLA breach alerts once with the breach, counts it, and the run goes on to complete', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'slow but fine',
      onFailure: { workflowId: notify },
      sla: { maxDuration: '1s', onBreach: 'alert' },
      steps: [{ id: 'wait', type: 'delay', config: { duration: '3s' } }],
    });
    const runId = await trigger(suite.stack, id);
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'completed');
    const notice = await waitFor('the alert', async () => noticesOf(runId)[0], 30_000);
    const body = bodyOf(notice) as { failedRun: Record<string, unknown>; breach: { sla: unknown; elapsed: string } };
    assert.deepEqual(body.breach.sla, { maxDuration: '1s', onBreach: 'alert' });
    // The timer fires at 1 s from the start; the alert says how long the run had taken, at least that.
    assert.ok(Number.parseFloat(body.breach.elapsed) >= 1, body.breach.elapsed);
    assert.equal(body.failedRun.id, runId);
    assert.equal(await failureStarts(suite.stack.client.workflow.getHandle(runId)), 1);
    assert.equal(noticesOf(runId).length, 1);
    const metrics = await (await suite.stack.app.request('/metrics')).text();
    assert.match(metrics, new RegExp(`minizaps_sla_breaches_total\\{workflow="${id}"\\} 1`));
  });

  it('an SLA with cancel ends the run cancelled, without an alert', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'cancelled when late',
      onFailure: { workflowId: notify },
      sla: { maxDuration: '1s', onBreach: 'cancel' },
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    });
    const runId = await trigger(suite.stack, id);
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'cancelled');
    assert.equal(run.error.code, 'SLA_BREACHED');
    assert.equal(await failureStarts(suite.stack.client.workflow.getHandle(runId)), 0);
  });

  it('an SLA with alert_and_cancel alerts once and ends cancelled', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'alerted and cancelled',
      onFailure: { workflowId: notify },
      sla: { maxDuration: '1s', onBreach: 'alert_and_cancel' },
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    });
    const runId = await trigger(suite.stack, id);
    assert.equal((await waitForEnd(suite.stack, runId)).status, 'cancelled');
    await waitFor('the alert', async () => noticesOf(runId)[0], 30_000);
    assert.equal(await failureStarts(suite.stack.client.workflow.getHandle(runId)), 1);
  });

  it('a failure workflow archived since the save is refused by new saves, and a failing run still ends, its start not retried', async () => {
    const gone = await createWorkflow(suite.stack, { name: 'gone', steps: [{ id: 'x', type: 'succeed' }] });
    const id = await createWorkflow(suite.stack, {
      name: 'names an archived one',
      onFailure: { workflowId: gone },
      steps: [{ id: 'stop', type: 'fail' }],
    });
    assert.equal((await suite.stack.call('DELETE', `/v1/workflows/${gone}`)).status, 204);
    const refused = await suite.stack.call('PUT', `/v1/workflows/${id}`, {
      name: 'names an archived one',
      onFailure: { workflowId: gone },
      steps: [{ id: 'stop', type: 'fail' }],
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 'INVALID_DEFINITION');
    const runId = await trigger(suite.stack, id);
    assert.equal((await waitForEnd(suite.stack, runId)).status, 'failed');
    const handle = suite.stack.client.workflow.getHandle(runId);
    await assert.rejects(handle.result());
    const events = (await handle.fetchHistory()).events ?? [];
    const failed = events.find((e) => e.activityTaskFailedEventAttributes);
    assert.equal(failed?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type, 'WORKFLOW_ARCHIVED');
    assert.equal(await failureStarts(handle), 1);
  });

  it('refuses bad failure targets and SLAs, with problem details', async () => {
    const other = await suite.stack.deps.workflows.create('another-tenant', {
      name: 'theirs',
      steps: [{ id: 'x', type: 'fail' }],
    });
    const step = [{ id: 'x', type: 'fail' }];
    const bad: [string, unknown][] = [
      ['missing workflow', { name: 'x', onFailure: { workflowId: 'nope' }, steps: step }],
      ["another tenant's workflow", { name: 'x', onFailure: { workflowId: other.id }, steps: step }],
      ['missing version', { name: 'x', onFailure: { workflowId: notify, version: 99 }, steps: step }],
      ['huge id', { name: 'x', onFailure: { workflowId: 'w'.repeat(100_000) }, steps: step }],
      ['control characters', { name: 'x', onFailure: { workflowId: 'a\u0000b' }, steps: step }],
      ['extra field', { name: 'x', onFailure: { workflowId: notify, then: 'more' }, steps: step }],
      ['not an object', { name: 'x', onFailure: [notify], steps: step }],
      ['zero SLA', { name: 'x', sla: { maxDuration: '0s', onBreach: 'alert' }, steps: step }],
      ['SLA over a year', { name: 'x', sla: { maxDuration: '400d', onBreach: 'alert' }, steps: step }],
      ['SLA not a duration', { name: 'x', sla: { maxDuration: 'soon', onBreach: 'alert' }, steps: step }],
      ['unknown action', { name: 'x', sla: { maxDuration: '1m', onBreach: 'explode' }, steps: step }],
      ['SLA without action', { name: 'x', sla: { maxDuration: '1m' }, steps: step }],
    ];
    for (const [what, definition] of bad) {
      const res = await suite.stack.call('POST', '/v1/workflows', definition);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
      assert.match(res.body.type, /INVALID_DEFINITION|invalid/i, what);
    }
    const settings: [string, unknown][] = [
      ["another tenant's workflow", { onFailure: { workflowId: other.id } }],
      ['missing workflow', { onFailure: { workflowId: 'nope' } }],
      ['extra field', { onFailure: null, more: 1 }],
      ['no onFailure', {}],
      ['huge id', { onFailure: { workflowId: 'w'.repeat(100_000) } }],
      ['a string', 'nope'],
    ];
    for (const [what, body] of settings) {
      const res = await suite.stack.call('PUT', '/v1/settings', body);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
      assert.ok(res.body.type, what);
    }
    assert.equal((await suite.stack.call('GET', '/v1/settings')).body.onFailure, null, 'nothing refused was stored');
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { assertPacedAtMost } from '../helpers/pacing.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

describe('reliability: dead letters, re-drive, cancellation, timeouts (real Temporal, real PostgreSQL)', () => {
  let healthy = false;
  const suite = useStack();
  before(async () => {
    suite.receiver.on('/first', () => ({ status: 200, body: { ok: 1 } }));
    suite.receiver.on('/down', () =>
      healthy ? { status: 200, body: { fixed: true } } : { status: 503, body: { error: 'down' } },
    );
    suite.receiver.on('/fixed', () => ({ status: 200, body: { fixed: 'by config' } }));
  });

  const twoSteps = (down: string) => ({
    name: 'parks',
    steps: [
      {
        id: 'first',
        type: 'http',
        config: { method: 'POST', url: `${suite.receiver.url}/first`, body: { n: '{{ trigger.n }}' } },
      },
      {
        id: 'second',
        type: 'http',
        config: { method: 'POST', url: `${suite.receiver.url}${down}`, body: { n: '{{ trigger.n }}' } },
        retry: { maxAttempts: 2, initialInterval: '100ms' },
      },
      { id: 'done', type: 'transform', config: { expression: "'done ' & $string(trigger.n)" } },
    ],
  });

  async function deadLetterOf(runId: string) {
    return waitFor('a dead letter', async () => {
      const res = await suite.stack.call('GET', '/v1/dead-letters?limit=200');
      return res.body.items.find((d: { runId: string }) => d.runId === runId);
    });
  }

  it('a step that exhausts its retries parks its run as a dead letter with the failed step, error, attempts and input', async () => {
    const id = await createWorkflow(suite.stack, twoSteps('/down'));
    const runId = await trigger(suite.stack, id, { n: 1 });
    const dl = await deadLetterOf(runId);
    assert.equal(dl.stepId, 'second');
    assert.equal(dl.errorCode, 'HTTP_503');
    assert.equal(dl.httpStatus, 503);
    assert.equal(dl.attempts, 2);
    assert.deepEqual(dl.input.body, { n: 1 });
    assert.equal(dl.status, 'open');
    const run = await waitForStatus(suite.stack, runId, 'failed');
    assert.equal(run.error.code, 'HTTP_503');
    assert.equal((await suite.stack.call('GET', `/v1/dead-letters/${dl.id}`)).body.id, dl.id);
    const groups = await suite.stack.call('GET', `/v1/dead-letters/groups?workflowId=${id}`);
    assert.deepEqual(
      groups.body.items.map((g: { stepId: string; errorCode: string; httpStatus: number; count: number }) => [
        g.stepId,
        g.errorCode,
        g.httpStatus,
        g.count,
      ]),
      [['second', 'HTTP_503', 503, 1]],
    );
  });

  it('re-driving with a corrected config resumes from the failed step; completed steps do not run again', async () => {
    const id = await createWorkflow(suite.stack, twoSteps('/down'));
    const runId = await trigger(suite.stack, id, { n: 2 });
    const dl = await deadLetterOf(runId);
    const bad = await suite.stack.call('POST', `/v1/dead-letters/${dl.id}/redrive`, { config: { url: 'not a url' } });
    assert.equal(bad.status, 400, 'a patch that breaks the step is refused');
    const res = await suite.stack.call('POST', `/v1/dead-letters/${dl.id}/redrive`, {
      config: { url: `${suite.receiver.url}/fixed` },
    });
    assert.equal(res.status, 202);
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.result, 'done 2');
    assert.deepEqual(run.steps.find((s: { id: string }) => s.id === 'second').output.body, { fixed: 'by config' });
    const firstCalls = suite.receiver.requestsTo('/first').filter((r) => JSON.parse(r.body).n === 2);
    assert.equal(firstCalls.length, 1, 'the step that had completed did not run again');
    const again = await suite.stack.call('POST', `/v1/dead-letters/${dl.id}/redrive`, {});
    assert.equal(again.body.code, 'DEAD_LETTER_RESOLVED');
  });

  it('a parked run says so: failed with parked {since, deadLetterId} in the run and in lists, and in its Temporal current details until re-driven', async () => {
    const id = await createWorkflow(suite.stack, twoSteps('/down'));
    const runId = await trigger(suite.stack, id, { n: 5 });
    const dl = await deadLetterOf(runId);
    const run = await waitForStatus(suite.stack, runId, 'failed');
    assert.deepEqual(run.parked, { since: dl.createdAt, deadLetterId: dl.id });
    assert.equal(run.endedAt, null);
    const listed = await suite.stack.call('GET', `/v1/runs?workflowId=${id}&status=failed`);
    assert.deepEqual(listed.body.items.find((r: { id: string }) => r.id === runId).parked, run.parked);
    const handle = suite.stack.client.workflow.getHandle(runId);
    const details = async () =>
      ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
    const parkedDetails = await details();
    assert.match(parkedDetails, /^\*\*Parked\*\* since /);
    assert.ok(
      parkedDetails.includes(dl.id) && parkedDetails.includes('`second`') && parkedDetails.includes('HTTP_503'),
    );

    await suite.stack.call('POST', `/v1/dead-letters/${dl.id}/redrive`, {
      config: { url: `${suite.receiver.url}/fixed` },
    });
    const ended = await waitForEnd(suite.stack, runId);
    assert.equal(ended.status, 'completed');
    assert.equal(ended.parked, null);
    assert.equal(await details(), '', 'replayed to its end, the run shows no parked step');
  });

  it('re-driving with a newer version runs that version of the failed step', async () => {
    const id = await createWorkflow(suite.stack, twoSteps('/down'));
    const runId = await trigger(suite.stack, id, { n: 3 });
    const dl = await deadLetterOf(runId);
    const v2 = await suite.stack.call('PUT', `/v1/workflows/${id}`, twoSteps('/fixed'));
    const res = await suite.stack.call('POST', `/v1/dead-letters/${dl.id}/redrive`, { version: v2.body.version });
    assert.equal(res.status, 202);
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.version, 1, 'the run keeps its version');
  });

  it('discarding a dead letter ends its run as failed, with the reason kept', async () => {
    const id = await createWorkflow(suite.stack, twoSteps('/down'));
    const runId = await trigger(suite.stack, id, { n: 4 });
    const dl = await deadLetterOf(runId);
    assert.equal((await suite.stack.call('DELETE', `/v1/dead-letters/${dl.id}?reason=obsolete`)).status, 204);
    const handle = suite.stack.client.workflow.getHandle(runId);
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'FAILED');
    const stored = await suite.stack.call('GET', `/v1/dead-letters/${dl.id}`);
    assert.equal(stored.body.status, 'discarded');
    assert.equal(stored.body.reason, 'obsolete');
  });

  it('a group of dead letters is re-driven in bulk at a bounded rate once the receiver is fixed', async () => {
    const id = await createWorkflow(suite.stack, twoSteps('/down'));
    const runIds = await Promise.all([10, 11, 12, 13, 14].map((n) => trigger(suite.stack, id, { n })));
    for (const runId of runIds) await deadLetterOf(runId);
    healthy = true;
    const fixedAt = Date.now();
    const res = await suite.stack.call('POST', '/v1/dead-letters/redrive', {
      workflowId: id,
      errorCode: 'HTTP_503',
      ratePerSecond: 2,
    });
    assert.equal(res.status, 202);
    assert.equal(res.body.matched, 5);
    const op = await suite.stack.client.workflow.getHandle(res.body.operationId).result();
    assert.deepEqual(op, { matched: 5, redriven: 5 });
    const runs = await Promise.all(runIds.map((r) => waitForEnd(suite.stack, r, 60_000)));
    assert.ok(runs.every((r) => r.status === 'completed'));
    assert.equal((await suite.stack.call('GET', `/v1/dead-letters/groups?workflowId=${id}`)).body.items.length, 0);
    healthy = false;
    const keys = new Set(runIds.map((r) => `${r}:second`));
    const redriven = suite.receiver
      .requestsTo('/down')
      .filter((r) => r.at >= fixedAt && keys.has(String(r.headers['idempotency-key'])));
    assert.equal(redriven.length, 5, 'one request per re-driven run');
    // Five at two a second take two seconds at least from the moment the receiver was fixed.
    assertPacedAtMost(
      redriven.map((r) => r.at),
      2,
      fixedAt,
    );
  });

  it('error codes listed as nonRetryable end the step at once', async () => {
    suite.receiver.on('/conflict', () => ({ status: 503 }));
    const id = await createWorkflow(suite.stack, {
      name: 'no retry',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${suite.receiver.url}/conflict` },
          retry: { maxAttempts: 5, nonRetryable: ['HTTP_503'] },
        },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const dl = await deadLetterOf(runId);
    assert.equal(dl.attempts, 1);
    assert.equal(suite.receiver.requestsTo('/conflict').length, 1);
  });

  it('cancels a waiting run, and an http step in flight is aborted', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'long',
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    });
    const runId = await trigger(suite.stack, id);
    await waitForStatus(suite.stack, runId, 'waiting');
    assert.equal((await suite.stack.call('POST', `/v1/runs/${runId}/cancel`)).status, 202);
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'cancelled');
    assert.equal(run.steps[0].status, 'cancelled');
    assert.equal((await suite.stack.call('POST', `/v1/runs/${runId}/cancel`)).status, 409);

    let aborted = false;
    suite.receiver.on('/slow', () => ({ status: 200, delayMs: 30_000 }));
    suite.receiver.onAbort('/slow', () => {
      aborted = true;
    });
    const slow = await createWorkflow(suite.stack, {
      name: 'slow',
      steps: [{ id: 'call', type: 'http', config: { url: `${suite.receiver.url}/slow` }, timeout: '1m' }],
    });
    const slowRun = await trigger(suite.stack, slow);
    await waitFor('the slow request', async () => (suite.receiver.requestsTo('/slow').length > 0 ? true : undefined));
    await suite.stack.call('POST', `/v1/runs/${slowRun}/cancel`);
    assert.equal((await waitForEnd(suite.stack, slowRun)).status, 'cancelled');
    await waitFor('the request to be aborted', async () => (aborted ? true : undefined));
  });

  it('a run past its timeout ends as timed_out', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'too slow',
      timeout: '500ms',
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    });
    const run = await waitForEnd(suite.stack, await trigger(suite.stack, id));
    assert.equal(run.status, 'timed_out');
    assert.equal(run.error.code, 'RUN_TIMED_OUT');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWorkflow, waitForEnd } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

describe('triggers that answer with the result (real Temporal, real PostgreSQL)', () => {
  const suite = useStack();
  const call = (method: string, path: string, body?: unknown) => suite.stack.call(method, path, body);

  /** A run that waits for `release` when asked to, so the test decides when it ends. */
  const held = (extra: unknown[] = []) => ({
    name: 'held',
    steps: [
      ...extra,
      {
        id: 'hold',
        type: 'wait_for_event',
        when: 'trigger.hold = true',
        config: { name: 'release', timeout: '5m' },
      },
      { id: 'sum', type: 'transform', config: { expression: '{"total": trigger.a + trigger.b}' } },
    ],
  });

  it('?wait= answers 200 with the output when the run ends within the wait, a failure with its error', async () => {
    const wf = await createWorkflow(suite.stack, held());
    const res = await call('POST', `/v1/workflows/${wf}/runs?wait=30s`, { a: 2, b: 3 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'completed');
    assert.deepEqual(res.body.output, { total: 5 });
    assert.equal(typeof res.body.runId, 'string');
    assert.equal(res.headers.get('location'), `/v1/runs/${res.body.runId}`);

    const failing = await createWorkflow(suite.stack, {
      name: 'fails',
      steps: [{ id: 'no', type: 'fail', config: { error: 'NOPE', message: 'refused' } }],
    });
    const failed = await call('POST', `/v1/workflows/${failing}/runs?wait=30s`, {});
    assert.equal(failed.status, 200, JSON.stringify(failed.body));
    assert.equal(failed.body.status, 'failed');
    assert.equal(failed.body.error.code, 'NOPE');
  });

  it('past the wait: 202 with a Location to poll, and the run goes on to its end', async () => {
    const wf = await createWorkflow(suite.stack, held());
    const res = await call('POST', `/v1/workflows/${wf}/runs?wait=1s`, { a: 1, b: 1, hold: true });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.headers.get('location'), `/v1/runs/${res.body.runId}`);
    assert.equal((await call('POST', `/v1/runs/${res.body.runId}/events/release`, {})).status, 202);
    const run = await waitForEnd(suite.stack, res.body.runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.result, { total: 2 });
  });

  it('a caller that goes away changes nothing: the run ends as it would have', async () => {
    const wf = await createWorkflow(suite.stack, held());
    const gone = new AbortController();
    const pending = suite.stack.app.request(`/v1/workflows/${wf}/runs?wait=60s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 4, b: 4, hold: true }),
      signal: gone.signal,
    });
    const runId = await (async () => {
      for (let i = 0; i < 100; i++) {
        const items = (await call('GET', `/v1/runs?workflowId=${wf}`)).body.items;
        if (items?.[0]?.status === 'waiting') return items[0].id as string;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the run never waited');
    })();
    gone.abort();
    const answered = await Promise.resolve(pending).then(
      (r: Response) => r.status,
      () => 'aborted',
    );
    assert.ok(answered === 202 || answered === 'aborted', String(answered));
    assert.equal((await call('POST', `/v1/runs/${runId}/events/release`, {})).status, 202);
    const run = await waitForEnd(suite.stack, runId);
    assert.deepEqual([run.status, run.result], ['completed', { total: 8 }]);
  });

  it('a respond step answers the waiting caller as it says while the run goes on', async () => {
    const wf = await createWorkflow(
      suite.stack,
      held([
        {
          id: 'ack',
          type: 'respond',
          config: {
            status: 201,
            headers: { 'x-order': '{{ trigger.order }}', 'content-type': 'application/json' },
            body: { received: '{{ trigger.order }}' },
          },
        },
      ]),
    );
    const res = await call('POST', `/v1/workflows/${wf}/runs?wait=30s`, { a: 1, b: 2, hold: true, order: 'o-42' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body, { received: 'o-42' });
    assert.equal(res.headers.get('x-order'), 'o-42');
    // It shares the console's origin: a browser runs no script of it.
    assert.equal(res.headers.get('content-security-policy'), "sandbox; default-src 'none'");
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const runId = res.headers.get('mini-zaps-run-id') ?? '';
    // Answered before its end: the run still waits for its event.
    assert.equal((await call('GET', `/v1/runs/${runId}`)).body.status, 'waiting');
    await call('POST', `/v1/runs/${runId}/events/release`, {});
    const run = await waitForEnd(suite.stack, runId);
    assert.deepEqual(run.result, { total: 3 });
  });

  it('webhooks: respond "onCompletion" answers with the result or the respond step; "immediately" with 202', async () => {
    const plain = await createWorkflow(suite.stack, held());
    const hook = await call('POST', `/v1/workflows/${plain}/webhooks`, { respond: 'onCompletion' });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    assert.equal(hook.body.respond, 'onCompletion');
    const done = await call('POST', hook.body.url, { a: 10, b: 5 });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual([done.body.status, done.body.output], ['completed', { total: 15 }]);

    const early = await createWorkflow(
      suite.stack,
      held([{ id: 'ack', type: 'respond', config: { status: 200, body: 'thanks' } }]),
    );
    const earlyHook = (await call('POST', `/v1/workflows/${early}/webhooks`, { respond: 'onCompletion' })).body;
    const res = await suite.stack.app.request(earlyHook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1, b: 1, hold: true }),
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'thanks');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const runId = res.headers.get('mini-zaps-run-id') ?? '';
    assert.equal((await call('GET', `/v1/runs/${runId}`)).body.status, 'waiting');
    await call('POST', `/v1/runs/${runId}/events/release`, {});
    assert.equal((await waitForEnd(suite.stack, runId)).status, 'completed');

    const immediate = (await call('POST', `/v1/workflows/${plain}/webhooks`, {})).body;
    assert.equal(immediate.respond, 'immediately');
    assert.equal((await call('POST', immediate.url, { a: 1, b: 1 })).status, 202);
    assert.equal((await call('POST', `/v1/workflows/${plain}/webhooks`, { respond: 'later' })).status, 400);
  });

  it('refuses bad input: a wait out of range or malformed, a respond step that sets what it may not or answers too much', async () => {
    const wf = await createWorkflow(suite.stack, held());
    for (const wait of ['61s', '2m', '0s', 'soon', '-1s', '1e9s', `${'9'.repeat(200)}s`, '']) {
      const res = await call('POST', `/v1/workflows/${wf}/runs?wait=${encodeURIComponent(wait)}`, { a: 1, b: 1 });
      assert.equal(res.status, 400, `wait=${wait.slice(0, 20)}: ${JSON.stringify(res.body)}`);
      assert.ok(['INVALID_WAIT', 'INVALID_REQUEST', 'MALFORMED_REQUEST'].includes(res.body.code), res.body.code);
    }
    assert.equal((await call('GET', `/v1/runs?workflowId=${wf}`)).body.items.length, 0, 'a refused call starts no run');

    for (const config of [
      { headers: { 'bad header': 'x' } },
      { status: 99 },
      { status: 700 },
      { headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v'])) },
    ]) {
      const res = await call('POST', '/v1/workflows', { name: 'bad', steps: [{ id: 'r', type: 'respond', config }] });
      assert.equal(res.status, 400, JSON.stringify(config));
    }
    // Values only known at run time are checked when the step runs: the step fails, the caller gets the end.
    const cases: [Record<string, unknown>, string][] = [
      [{ body: '{{ $pad("", 70000, "x") }}' }, 'RESPONSE_TOO_LARGE'],
      [{ headers: { 'set-cookie': 'session=1' } }, 'INVALID_CONFIG'],
      [{ headers: { 'content-length': '1' } }, 'INVALID_CONFIG'],
      [{ headers: { 'x-split': '{{ "a" & $string($fromMillis(0)) & "\\r\\nx: y" }}' } }, 'INVALID_CONFIG'],
      [{ status: '{{ 1000 }}' }, 'INVALID_CONFIG'],
    ];
    for (const [config, code] of cases) {
      const bad = await createWorkflow(suite.stack, {
        name: 'bad respond',
        steps: [
          { id: 'r', type: 'respond', config, onError: 'continue' },
          { id: 'end', type: 'succeed' },
        ],
      });
      const res = await call('POST', `/v1/workflows/${bad}/runs?wait=30s`, {});
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'completed');
      const run = await waitForEnd(suite.stack, res.body.runId);
      const step = run.steps.find((s: { id: string }) => s.id === 'r');
      assert.equal(step.error?.code, code, JSON.stringify(step));
    }
  });
});

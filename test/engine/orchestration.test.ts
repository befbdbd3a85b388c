import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunInput } from '../../src/workflows/run-model.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

type StepView = {
  id: string;
  status: string;
  output: unknown;
  error: { code: string } | null;
  children?: { key: string; status: string; steps: StepView[] }[];
};
const step = (run: { steps: StepView[] }, id: string): StepView => {
  const found = run.steps.find((s) => s.id === id);
  assert.ok(found, `step ${id} in ${run.steps.map((s) => s.id).join(', ')}`);
  return found;
};

describe('orchestration (real Temporal dev server, real PostgreSQL)', () => {
  const suite = useStack();

  const runToEnd = async (definition: unknown, payload: unknown = {}) =>
    waitForEnd(suite.stack, await trigger(suite.stack, await createWorkflow(suite.stack, definition), payload), 60_000);

  it('parallel: three branches fan out and the fan-in step reads all three outputs', async () => {
    suite.receiver.on('/branch', (req) => ({ status: 200, body: { got: JSON.parse(req.body).n } }));
    const http = (id: string, n: number) => ({
      id,
      type: 'http',
      config: { method: 'POST', url: `${suite.receiver.url}/branch`, body: { n } },
    });
    const run = await runToEnd({
      name: 'fan-out',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          branches: [
            [http('a', 1)],
            [http('b', 2), { id: 'b2', type: 'transform', config: { expression: 'steps.b.output.body.got * 10' } }],
            [http('c', 3)],
          ],
        },
        {
          id: 'join',
          type: 'transform',
          config: {
            expression: '[steps.a.output.body.got, steps.b2.output, steps.c.output.body.got, $count(steps.fan.output)]',
          },
        },
      ],
    });
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.result, [1, 20, 3, 3]);
    const fan = step(run, 'fan');
    assert.equal(fan.children?.length, 3);
    assert.deepEqual(
      fan.children?.map((c) => c.steps.map((s) => `${s.id}:${s.status}`)),
      [['a:completed'], ['b:completed', 'b2:completed'], ['c:completed']],
    );
  });

  it('parallel failFast: the first failure cancels the other branches', async () => {
    const run = await runToEnd({
      name: 'fail fast',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          branches: [
            [{ id: 'bad', type: 'transform', config: { expression: '$error("boom")' } }],
            [{ id: 'slow', type: 'delay', config: { duration: '1h' } }],
          ],
        },
      ],
    });
    assert.equal(run.status, 'failed');
    assert.equal(run.error.code, 'EXPRESSION_ERROR');
    const branches = step(run, 'fan').children ?? [];
    assert.equal(branches[0]?.steps[0]?.status, 'failed');
    assert.equal(branches[1]?.steps[0]?.status, 'cancelled');
  });

  it('parallel without failFast waits for every branch and reports every failure', async () => {
    const run = await runToEnd({
      name: 'report all',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          failFast: false,
          branches: [
            [{ id: 'x', type: 'transform', config: { expression: '$error("boom")' } }],
            [{ id: 'ok', type: 'delay', config: { duration: '200ms' } }],
            [{ id: 'y', type: 'fail', config: { error: 'NOPE', message: 'no' } }],
          ],
        },
      ],
    });
    assert.equal(run.status, 'failed');
    assert.equal(run.error.code, 'PARALLEL_FAILED');
    assert.deepEqual(
      run.error.details.failures.map((f: { branch: number; code: string }) => [f.branch, f.code]),
      [
        [0, 'EXPRESSION_ERROR'],
        [2, 'NOPE'],
      ],
    );
    assert.equal(step(run, 'fan').children?.[1]?.steps[0]?.status, 'completed');
  });

  it('choice takes each path by the run context', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'route',
      steps: [
        {
          id: 'route',
          type: 'choice',
          cases: [
            { when: "trigger.plan = 'pro'", next: 'vip' },
            { when: 'trigger.seats > 10', next: 'team' },
          ],
          default: 'basic',
        },
        { id: 'vip', type: 'succeed', config: { output: 'vip' } },
        { id: 'team', type: 'succeed', config: { output: 'team of {{ trigger.seats }}' } },
        { id: 'basic', type: 'transform', config: { expression: "'basic'" } },
      ],
    });
    const results = await Promise.all(
      [{ plan: 'pro' }, { plan: 'free', seats: 50 }, { plan: 'free' }].map(
        async (payload) => (await waitForEnd(suite.stack, await trigger(suite.stack, id, payload))).result,
      ),
    );
    assert.deepEqual(results, ['vip', 'team of 50', 'basic']);
  });

  it('a loop through choice ends when its condition says so', async () => {
    const run = await runToEnd({
      name: 'count to five',
      steps: [
        { id: 'inc', type: 'transform', config: { expression: '(steps.inc.output ? steps.inc.output : 0) + 1' } },
        { id: 'again', type: 'choice', cases: [{ when: 'steps.inc.output < 5', next: 'inc' }], default: 'done' },
        { id: 'done', type: 'succeed' },
      ],
    });
    assert.equal(run.status, 'completed');
    assert.equal(run.result, 5);
  });

  it('a loop that would go on fails clearly at maxSteps', async () => {
    const run = await runToEnd({
      name: 'runaway',
      maxSteps: 20,
      steps: [
        { id: 'inc', type: 'transform', config: { expression: '(steps.inc.output ? steps.inc.output : 0) + 1' } },
        { id: 'again', type: 'choice', cases: [{ when: 'steps.inc.output < 1000000', next: 'inc' }], default: 'done' },
        { id: 'done', type: 'succeed' },
      ],
    });
    assert.equal(run.status, 'failed');
    assert.equal(run.error.code, 'MAX_STEPS_EXCEEDED');
  });

  it('foreach: steps per item with item and index in scope, bounded concurrency, results in item order', async () => {
    // Each reply is held back, so the receiver sees how many items are in flight at once.
    suite.receiver.on('/item', (req) => ({ status: 200, body: JSON.parse(req.body), delayMs: 400 }));
    const run = await runToEnd(
      {
        name: 'per item',
        steps: [
          {
            id: 'each',
            type: 'foreach',
            items: 'trigger.list',
            concurrency: 3,
            steps: [
              {
                id: 'call',
                type: 'http',
                config: {
                  method: 'POST',
                  url: `${suite.receiver.url}/item`,
                  body: { v: '{{ item }}', i: '{{ index }}' },
                },
              },
              {
                id: 'pick',
                type: 'transform',
                config: { expression: 'steps.call.output.body.v & "@" & $string(index)' },
              },
            ],
          },
        ],
      },
      { list: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] },
    );
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.result, ['a@0', 'b@1', 'c@2', 'd@3', 'e@4', 'f@5', 'g@6']);
    const keys = suite.receiver
      .requestsTo('/item')
      .map((r) => r.headers['idempotency-key'])
      .sort();
    assert.deepEqual(keys, [0, 1, 2, 3, 4, 5, 6].map((i) => `${run.id}:call[${i}]`).sort());
    assert.equal(step(run, 'each').children?.length, 7);
    assert.equal(suite.receiver.maxInFlight('/item'), 3, 'concurrency 3: three requests open at once, never more');
  });

  it('foreach over 10,000 items with concurrency 50 runs in batches of child workflows', async () => {
    const started = Date.now();
    const run = await runToEnd(
      {
        name: 'ten thousand',
        steps: [
          {
            id: 'each',
            type: 'foreach',
            items: '[1..trigger.n]',
            concurrency: 50,
            steps: [{ id: 'double', type: 'transform', config: { expression: 'item * 2' } }],
          },
          {
            id: 'total',
            type: 'transform',
            config: {
              expression:
                '{ "count": $count(steps.each.output), "sum": $sum(steps.each.output), "last": steps.each.output[-1] }',
            },
          },
        ],
      },
      { n: 10_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.result, { count: 10_000, sum: 10_000 * 10_001, last: 20_000 });
    const batches = step(run, 'each').children ?? [];
    assert.equal(batches.length, 10);
    assert.ok(batches.every((b) => b.status === 'completed'));
    const parent = await suite.stack.client.workflow.getHandle(run.id).fetchHistory();
    const child = await suite.stack.client.workflow.getHandle(`${run.id}:each:batch-0`).fetchHistory();
    const bytes = (h: unknown) => JSON.stringify(h).length;
    process.stdout.write(
      `# foreach 10,000 items: ${seconds.toFixed(1)} s; parent history ${parent.events?.length} events, ${bytes(parent)} bytes; batch 0 history ${child.events?.length} events, ${bytes(child)} bytes\n`,
    );
    assert.ok((parent.events?.length ?? 0) < 200, 'the parent history stays small');
  });

  it('wait_for_event: the run waits until the API delivers the event, whose payload is the output', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'approval',
      steps: [
        { id: 'approval', type: 'wait_for_event', config: { name: 'approved', timeout: '1h' } },
        { id: 'after', type: 'transform', config: { expression: "'approved by ' & steps.approval.output.by" } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const waiting = await waitForStatus(suite.stack, runId, 'waiting');
    assert.equal(step(waiting, 'approval').status, 'waiting');
    const sent = await suite.stack.call('POST', `/v1/runs/${runId}/events/approved`, { by: 'grace' });
    assert.equal(sent.status, 202);
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.result, 'approved by grace');
    const late = await suite.stack.call('POST', `/v1/runs/${runId}/events/approved`, {});
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'RUN_ENDED');
  });

  it('wait_for_event: a timeout routes to onTimeout', async () => {
    const run = await runToEnd({
      name: 'times out',
      steps: [
        {
          id: 'approval',
          type: 'wait_for_event',
          config: { name: 'approved', timeout: '500ms' },
          onTimeout: 'escalate',
        },
        { id: 'approved', type: 'succeed', config: { output: 'approved' } },
        {
          id: 'escalate',
          type: 'transform',
          config: { expression: "steps.approval.output.timedOut ? 'escalated' : 'no'" },
        },
      ],
    });
    assert.equal(run.result, 'escalated');
  });

  it('subworkflow: runs a stored workflow as a child and returns its result; a failing child fails the step with its run id', async () => {
    const child = await createWorkflow(suite.stack, {
      name: 'double',
      steps: [{ id: 'twice', type: 'transform', config: { expression: 'trigger.n * 2' } }],
    });
    const failing = await createWorkflow(suite.stack, {
      name: 'refuse',
      steps: [{ id: 'no', type: 'fail', config: { error: 'REFUSED', message: 'not today' } }],
    });
    const run = await runToEnd(
      {
        name: 'parent',
        steps: [
          { id: 'sub', type: 'subworkflow', config: { workflowId: child, input: { n: '{{ trigger.n }}' } } },
          { id: 'bad', type: 'subworkflow', config: { workflowId: failing }, onError: 'recover' },
          { id: 'unreached', type: 'fail' },
          {
            id: 'recover',
            type: 'transform',
            config: {
              expression:
                '{ "sub": steps.sub.output, "code": steps.bad.error.code, "child": steps.bad.error.details.childRunId }',
            },
          },
        ],
      },
      { n: 21 },
    );
    assert.equal(run.status, 'completed');
    assert.equal(run.result.sub, 42);
    assert.equal(run.result.code, 'REFUSED');
    assert.equal(run.result.child, `${run.id}:bad`);
    const childRun = await suite.stack.call('GET', `/v1/runs/${run.result.child}`);
    assert.equal(childRun.body.status, 'failed', 'the child is a run of its own in the index');
  });

  it('onError routes a failed step to another step with the error in the context', async () => {
    suite.receiver.on('/gone', () => ({ status: 404 }));
    const run = await runToEnd({
      name: 'fallback',
      steps: [
        { id: 'call', type: 'http', config: { url: `${suite.receiver.url}/gone` }, onError: 'fallback' },
        { id: 'unreached', type: 'fail' },
        { id: 'fallback', type: 'transform', config: { expression: "'fell back after ' & steps.call.error.code" } },
      ],
    });
    assert.equal(run.status, 'completed');
    assert.equal(run.result, 'fell back after HTTP_404');
    assert.equal(step(run, 'call').status, 'failed');
  });

  it('expressions set parameters at run time, including delay.until and http.url', async () => {
    suite.receiver.on('/dynamic/42', () => ({ status: 200, body: { ok: true } }));
    const at = Date.now();
    const until = at + 1500;
    const run = await runToEnd(
      {
        name: 'dynamic',
        steps: [
          { id: 'later', type: 'delay', config: { until: '{{ $fromMillis($toMillis(trigger.at) + 1500) }}' } },
          { id: 'call', type: 'http', config: { url: `${suite.receiver.url}/dynamic/{{ trigger.id }}` } },
        ],
      },
      { id: 42, at: new Date(at).toISOString() },
    );
    assert.equal(run.status, 'completed');
    assert.equal(run.result.body.ok, true);
    const arrived = suite.receiver.requestsTo('/dynamic/42');
    assert.equal(arrived.length, 1, 'the request went to the rendered path (unscripted paths answer 404)');
    const later = run.steps.find((s: { id: string }) => s.id === 'later');
    const call = run.steps.find((s: { id: string }) => s.id === 'call');
    assert.ok(
      Date.parse(later.endedAt) >= until,
      `the delay ended at ${later.endedAt}, before ${new Date(until).toISOString()}`,
    );
    assert.ok(
      Date.parse(call.startedAt) >= until,
      `the http step started at ${call.startedAt}, before the delay's end`,
    );
    assert.ok((arrived[0]?.at ?? 0) >= until, 'the request arrived after the time delay.until named');
  });

  it('a long loop continues as new and keeps its context', async () => {
    const definition = {
      name: 'long loop',
      steps: [
        { id: 'wait', type: 'delay', config: { duration: '1ms' } },
        { id: 'inc', type: 'transform', config: { expression: '(steps.inc.output ? steps.inc.output : 0) + 1' } },
        { id: 'again', type: 'choice', cases: [{ when: 'steps.inc.output < 6', next: 'wait' }], default: 'done' },
        { id: 'done', type: 'transform', config: { expression: "'counted to ' & steps.inc.output" } },
      ],
    };
    const id = await createWorkflow(suite.stack, definition);
    const input: RunInput = {
      tenantId: 'default',
      workflowId: id,
      version: 1,
      definition: definition as RunInput['definition'],
      trigger: {},
      historyLimit: 12,
    };
    const handle = await suite.stack.client.workflow.start('interpreter', {
      taskQueue: suite.stack.config.TEMPORAL_TASK_QUEUE,
      workflowId: `can-${id}`,
      args: [input],
    });
    const result = await handle.result();
    assert.deepEqual(result, { output: 'counted to 6' });
    const first = await suite.stack.client.workflow.getHandle(`can-${id}`, handle.firstExecutionRunId).fetchHistory();
    assert.equal(
      first.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes ? 'continued' : 'not',
      'continued',
    );
  });

  it('draws any definition as a Mermaid flowchart', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'drawn',
      steps: [
        { id: 'route', type: 'choice', cases: [{ when: 'trigger.x', next: 'fan' }], default: 'end' },
        {
          id: 'fan',
          type: 'parallel',
          branches: [
            [{ id: 'a', type: 'delay', config: { duration: '1s' } }],
            [{ id: 'b', type: 'transform', config: { expression: '1' } }],
          ],
        },
        { id: 'end', type: 'succeed' },
      ],
    });
    const res = await suite.stack.app.request(`/v1/workflows/${id}/diagram`);
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(text, /^flowchart TD/);
    assert.match(text, /s_route\{/);
    assert.match(text, /subgraph s_fan_0/);
    assert.match(text, /s_route -->\|"trigger.x"\| s_fan/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { DEFAULT_RUN_LIMITS } from '../../src/shared/run-limits.js';
import type { interpreter } from '../../src/workflows/interpreter.js';
import { stampRun } from '../../src/workflows/revisions.js';
import type { RunInput } from '../../src/workflows/run-model.js';
import { secretPlaceholder } from '../../src/definitions/expressions/secret-placeholders.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import type { Stack } from '../helpers/stack.js';
import { useStack } from '../helpers/use-stack.js';

const { History } = proto.temporal.api.history.v1;
const MiB = 1024 * 1024;

/** Bytes of a run's whole Temporal history, as the server stores it. */
async function historyBytes(stack: Stack, runId: string): Promise<number> {
  const history = await stack.client.workflow.getHandle(runId).fetchHistory();
  return History.encode(history).finish().length;
}

describe('a workflow cannot hurt the engine (real Temporal, real PostgreSQL)', () => {
  const suite = useStack({
    env: {
      STEP_OUTPUT_MAX_BYTES: String(6 * MiB),
      API_BODY_LIMIT_BYTES: String(8 * MiB),
      SECRETS_KEYS: `test:${Buffer.alloc(32, 7).toString('base64')}`,
    },
  });

  it('each hostile expression fails its step with EXPRESSION_LIMIT, and the same worker then completes the next run', async () => {
    const hostile = {
      'endless recursion': '($f := function($n){ $f($n + 1) }; $f(0))',
      'deep recursion': '($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000000))',
      'huge reduce': '$reduce([1..10000000], function($a, $b){ $a + $b })',
      'multi-megabyte value': '$pad("x", 50000000)',
      'doubling string': '($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f("ab", 40))',
    };
    for (const [name, expression] of Object.entries(hostile)) {
      const id = await createWorkflow(suite.stack, {
        name,
        steps: [{ id: 'evil', type: 'transform', config: { expression } }],
      });
      const run = await waitForEnd(suite.stack, await trigger(suite.stack, id), 60_000);
      assert.equal(run.status, 'failed', name);
      assert.equal(run.error.code, 'EXPRESSION_LIMIT', `${name}: ${run.error.message}`);
      assert.match(run.error.message, /step 'evil' failed: expression .* exceeded its \w+ limit/);
    }
    const regex = await createWorkflow(suite.stack, {
      name: 'backtracking regex',
      steps: [
        { id: 're', type: 'transform', config: { expression: `$contains("${'a'.repeat(10_000)}!", /^(a+)+$/)` } },
      ],
    });
    const matched = await waitForEnd(suite.stack, await trigger(suite.stack, regex));
    assert.equal(matched.status, 'completed');
    assert.equal(matched.result, false);

    const fine = await createWorkflow(suite.stack, {
      name: 'fine',
      steps: [{ id: 'sum', type: 'transform', config: { expression: '$sum([1..100])' } }],
    });
    const run = await waitForEnd(suite.stack, await trigger(suite.stack, fine));
    assert.equal(run.status, 'completed');
    assert.equal(run.result, 5050);
  });

  it('a 5 MB http response completes its run with exactly one request, a small history and its output readable', async () => {
    const big = { items: Array.from({ length: 5000 }, (_, i) => ({ i, text: 'y'.repeat(1000) })) };
    suite.receiver.on('/big', () => ({ status: 200, body: big }));
    const id = await createWorkflow(suite.stack, {
      name: 'large response',
      steps: [
        { id: 'fetch', type: 'http', config: { method: 'POST', url: `${suite.receiver.url}/big`, body: { hello: 1 } } },
        { id: 'count', type: 'transform', config: { expression: '$count(steps.fetch.output.body.items)' } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const run = await waitForEnd(suite.stack, runId, 60_000);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(run.result, 5000);
    assert.equal(suite.receiver.requestsTo('/big').length, 1);
    assert.equal(run.steps[0].output.body.items.length, 5000);
    const bytes = await historyBytes(suite.stack, runId);
    assert.ok(bytes < 100_000, `history is ${bytes} bytes`);
  });

  it('an output above the per-step bound fails OUTPUT_TOO_LARGE with exactly one request, never a retry loop', async () => {
    suite.receiver.on('/huge', () => ({ status: 200, body: { blob: 'z'.repeat(7 * MiB) } }));
    const id = await createWorkflow(suite.stack, {
      name: 'too large',
      steps: [{ id: 'fetch', type: 'http', config: { method: 'GET', url: `${suite.receiver.url}/huge` } }],
    });
    const run = await waitForStatus(suite.stack, await trigger(suite.stack, id), 'failed', 60_000);
    assert.equal(run.error.code, 'OUTPUT_TOO_LARGE');
    assert.equal(run.steps[0].attempts, 1);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(suite.receiver.requestsTo('/huge').length, 1);
  });

  it('an output nested deeper than the bound fails OUTPUT_TOO_DEEP with exactly one request', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 2000; i++) deep = [deep];
    suite.receiver.on('/deep', () => ({ status: 200, body: deep }));
    const id = await createWorkflow(suite.stack, {
      name: 'too deep',
      steps: [{ id: 'fetch', type: 'http', config: { method: 'GET', url: `${suite.receiver.url}/deep` } }],
    });
    const run = await waitForStatus(suite.stack, await trigger(suite.stack, id), 'failed', 60_000);
    assert.equal(run.error.code, 'OUTPUT_TOO_DEEP');
    assert.equal(suite.receiver.requestsTo('/deep').length, 1);
  });

  it('a 300-item foreach of 50 KB results completes, its history small', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'wide foreach',
      steps: [
        {
          id: 'each',
          type: 'foreach',
          items: '[1..300]',
          steps: [{ id: 'pad', type: 'transform', config: { expression: '$pad($string(item), 50000, "x")' } }],
        },
        { id: 'total', type: 'transform', config: { expression: '$sum(steps.each.output.$length($))' } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    const run = await waitForEnd(suite.stack, runId, 120_000);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(run.result, 300 * 50_000);
    const bytes = await historyBytes(suite.stack, runId);
    assert.ok(bytes < 100_000, `history is ${bytes} bytes`);
  });

  it('a 3 MB event payload reaches the waiting run', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'large event',
      steps: [
        { id: 'wait', type: 'wait_for_event', config: { name: 'upload', timeout: '1m' } },
        { id: 'size', type: 'transform', config: { expression: '$length(steps.wait.output.data)' } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    await waitForStatus(suite.stack, runId, 'waiting');
    const sent = await suite.stack.call('POST', `/v1/runs/${runId}/events/upload`, { data: 'e'.repeat(3 * MiB) });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const run = await waitForEnd(suite.stack, runId, 60_000);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(run.result, 3 * MiB);
    assert.ok((await historyBytes(suite.stack, runId)) < 100_000);
  });

  it('a run continues as new carrying 1 MB of state, and the state arrives whole', async () => {
    const definition = {
      name: 'long loop with large state',
      steps: [
        { id: 'big', type: 'transform', config: { expression: '$pad("", 1000000, "s")' } },
        {
          id: 'count',
          type: 'transform',
          config: { expression: "$type(steps.count.output) = 'number' ? steps.count.output + 1 : 1" },
        },
        { id: 'tick', type: 'delay', config: { duration: '10ms' } },
        { id: 'again', type: 'choice', cases: [{ when: 'steps.count.output < 10', next: 'count' }], default: 'done' },
        {
          id: 'done',
          type: 'transform',
          config: { expression: '{ "count": steps.count.output, "big": $length(steps.big.output) }' },
        },
      ],
    };
    const input: RunInput = {
      ...stampRun(undefined),
      tenantId: 'default',
      workflowId: 'direct',
      version: 1,
      definition: definition as RunInput['definition'],
      trigger: null,
      historyLimit: 30,
    };
    const runId = `can-${Date.now()}`;
    const handle = await suite.stack.client.workflow.start<typeof interpreter>('interpreter', {
      workflowId: runId,
      taskQueue: suite.stack.config.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
    assert.deepEqual((await handle.result()).output, { count: 10, big: 1_000_000 });
    const described = await handle.describe();
    assert.notEqual(described.runId, handle.firstExecutionRunId, 'continued as new');
  });

  it('a run whose outputs outgrow its state bound fails RUN_STATE_TOO_LARGE', async () => {
    const definition = {
      name: 'state bound',
      steps: [
        { id: 'a', type: 'transform', config: { expression: '$pad("", 600000, "a")' } },
        { id: 'b', type: 'transform', config: { expression: '$pad("", 600000, "b")' } },
      ],
    };
    const input: RunInput = {
      revision: stampRun(undefined).revision,
      limits: { ...DEFAULT_RUN_LIMITS, runStateBytes: MiB },
      tenantId: 'default',
      workflowId: 'direct',
      version: 1,
      definition: definition as RunInput['definition'],
      trigger: null,
    };
    const handle = await suite.stack.client.workflow.start<typeof interpreter>('interpreter', {
      workflowId: `state-${Date.now()}`,
      taskQueue: suite.stack.config.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
    await assert.rejects(
      handle.result(),
      (err: Error & { cause?: { type?: string } }) => err.cause?.type === 'RUN_STATE_TOO_LARGE',
    );
  });

  it("a secret reference sent in trigger data is never resolved; the workflow's own is", async () => {
    assert.equal(
      (await suite.stack.call('PUT', '/v1/secrets/crm_token', { value: 'sk_live_bounded_1234567890' })).status < 300,
      true,
    );
    suite.receiver.on('/crm', () => ({ status: 200, body: { ok: true } }));
    const id = await createWorkflow(suite.stack, {
      name: 'forwards trigger fields',
      steps: [
        {
          id: 'crm',
          type: 'http',
          config: {
            method: 'POST',
            url: `${suite.receiver.url}/crm`,
            headers: { authorization: "Bearer {{ $secret('crm_token') }}" },
            body: { email: '{{ trigger.email }}', note: 'from {{ trigger.email }}' },
          },
        },
      ],
    });
    const forged = secretPlaceholder('crm_token');
    const run = await waitForEnd(suite.stack, await trigger(suite.stack, id, { email: forged }));
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    const [request] = suite.receiver.requestsTo('/crm');
    assert.equal(request?.headers.authorization, 'Bearer sk_live_bounded_1234567890');
    assert.ok(!request?.body.includes('sk_live_bounded'), request?.body);
    assert.equal(JSON.parse(request?.body ?? '{}').email, forged);
  });
});

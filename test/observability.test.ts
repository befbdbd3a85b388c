import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { setupTracing, type Tracing } from '../src/shared/tracing.js';
import { waitFor } from './helpers/ports.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { createWorkflow, trigger, waitForEnd } from './helpers/runs.js';
import { startStack, type Stack } from './helpers/stack.js';

describe('observability (real Temporal, real PostgreSQL)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing | undefined;
  let stack: Stack;
  let receiver: Receiver;
  before(async () => {
    tracing = setupTracing('test', { processor: new SimpleSpanProcessor(exporter) });
    [stack, receiver] = await Promise.all([startStack({ tracing }), startReceiver()]);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
    await tracing?.shutdown();
  });

  it('one trace runs from the API request through start-workflow and the workflow into every activity, nested', async () => {
    receiver.accept('/traced');
    const id = await createWorkflow(stack, {
      name: 'traced',
      steps: [
        { id: 'call', type: 'http', config: { url: `${receiver.url}/traced` } },
        { id: 'shape', type: 'transform', config: { expression: 'steps.call.output.status' } },
      ],
    });
    const runId = await trigger(stack, id);
    await waitForEnd(stack, runId);
    const byName = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);
    const spans = await waitFor(
      `the workflow and activity spans (have: ${exporter
        .getFinishedSpans()
        .map((s) => s.name)
        .join(', ')})`,
      async () => {
        const found = [
          'POST /v1/workflows/:id/runs',
          'StartWorkflow:interpreter',
          'RunWorkflow:interpreter',
          'StartActivity:http',
          'RunActivity:http',
        ].map((n) => byName(n));
        return found.every((s) => s !== undefined) ? (found as ReadableSpan[]) : undefined;
      },
    );
    const [request, start, run, startActivity, runActivity] = spans;
    const traceId = request?.spanContext().traceId;
    assert.ok(
      spans.every((s) => s.spanContext().traceId === traceId),
      'every span shares the request trace',
    );
    assert.equal(start?.parentSpanId, request?.spanContext().spanId);
    assert.equal(run?.parentSpanId, start?.spanContext().spanId);
    assert.equal(startActivity?.parentSpanId, run?.spanContext().spanId);
    assert.equal(runActivity?.parentSpanId, startActivity?.spanContext().spanId);
    const received = receiver.requestsTo('/traced')[0];
    assert.ok(received, 'the step reached the receiver');
  });

  it('serves Prometheus metrics: triggers, runs by status, step attempts and failures, request latency, backlog', async () => {
    receiver.accept('/fine');
    receiver.on('/boom', () => ({ status: 404 }));
    const ok = await createWorkflow(stack, {
      name: 'ok',
      steps: [{ id: 'call', type: 'http', config: { url: `${receiver.url}/fine` } }],
    });
    const bad = await createWorkflow(stack, {
      name: 'bad',
      steps: [{ id: 'call', type: 'http', config: { url: `${receiver.url}/boom` } }],
    });
    await waitForEnd(stack, await trigger(stack, ok));
    await waitForEnd(stack, await trigger(stack, bad));
    await stack.call('POST', '/v1/workflows/nope/runs', {});
    const res = await stack.app.request('/metrics');
    const text = await res.text();
    assert.equal(res.status, 200);
    for (const line of [
      /minizaps_triggers_total\{result="accepted"\} [1-9]/,
      /minizaps_triggers_total\{result="rejected"\} [1-9]/,
      /minizaps_runs_finished_total\{status="completed"\} [1-9]/,
      /minizaps_step_attempts_total\{type="http"\} [1-9]/,
      /minizaps_step_failures_total\{type="http",code="HTTP_404"\} 1/,
      /minizaps_dead_letters_total\{type="http",code="HTTP_404"\} 1/,
      /minizaps_run_duration_seconds_bucket\{le="[^"]+",status="completed"\}/,
      /minizaps_http_request_duration_seconds_count\{method="POST",route="\/v1\/workflows\/:id\/runs",status="202"\} [1-9]/,
      /minizaps_task_queue_backlog\{task_type="workflow"\} \d/,
    ]) {
      assert.match(text, line);
    }
  });
});

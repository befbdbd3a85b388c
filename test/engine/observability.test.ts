import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { setupTracing, type Tracing } from '../../src/shared/tracing.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

describe('observability (real Temporal, real PostgreSQL)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing | undefined;
  // Tracing is set up in the hook, before the stack, and shut down after the stack stopped.
  const suite = useStack(() => {
    tracing = setupTracing('test', { processor: new SimpleSpanProcessor(exporter) });
    return { tracing };
  });
  after(() => tracing?.shutdown());

  it('one trace runs from the API request through start-workflow and the workflow into every activity, nested', async () => {
    suite.receiver.accept('/traced');
    const id = await createWorkflow(suite.stack, {
      name: 'traced',
      steps: [
        { id: 'call', type: 'http', config: { url: `${suite.receiver.url}/traced` } },
        { id: 'shape', type: 'transform', config: { expression: 'steps.call.output.status' } },
      ],
    });
    const runId = await trigger(suite.stack, id);
    await waitForEnd(suite.stack, runId);
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
    const received = suite.receiver.requestsTo('/traced')[0];
    assert.ok(received, 'the step reached the receiver');
  });

  it('serves Prometheus metrics: triggers, runs by status, step attempts and failures, request latency, backlog', async () => {
    suite.receiver.accept('/fine');
    suite.receiver.on('/boom', () => ({ status: 404 }));
    const ok = await createWorkflow(suite.stack, {
      name: 'ok',
      steps: [{ id: 'call', type: 'http', config: { url: `${suite.receiver.url}/fine` } }],
    });
    const bad = await createWorkflow(suite.stack, {
      name: 'bad',
      steps: [{ id: 'call', type: 'http', config: { url: `${suite.receiver.url}/boom` } }],
    });
    await waitForEnd(suite.stack, await trigger(suite.stack, ok));
    await waitForEnd(suite.stack, await trigger(suite.stack, bad));
    await suite.stack.call('POST', '/v1/workflows/nope/runs', {});
    const res = await suite.stack.app.request('/metrics');
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

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createExpressionActivities } from '../src/activities/expressions.js';
import type { ConnectorStep, Definition, Step } from '../src/definitions/schema.js';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../src/worker/bundle.js';
import type { RunInput } from '../src/workflows/messages.js';
import { stampRun } from '../src/workflows/revisions.js';
import { toolPaths } from './helpers/stack.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The interpreter alone on the time-skipping test server, with stubbed activities: hours of
 * timers, timeouts and backoff pass in moments, and the server's clock tells how long they took.
 */
describe('interpreter timing (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = 'interpreter-time';
  /** The server time each attempt of the stub connector started at, per step id. */
  const attempts = new Map<string, number[]>();

  before(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: toolPaths().testServer } },
    });
    const stubs = {
      ...createExpressionActivities(),
      async recordRun(): Promise<void> {},
      async recordDeadLetter(): Promise<void> {},
      /** Records the attempt; fails when its config says `fail`. */
      async http(input: { stepId: string; config: unknown }): Promise<{ output: unknown; attempt: number }> {
        const info = Context.current().info;
        const now = await env.currentTimeMs();
        attempts.set(input.stepId, [...(attempts.get(input.stepId) ?? []), now]);
        const config = typeof input.config === 'object' && input.config !== null ? input.config : {};
        if ('fail' in config)
          throw ApplicationFailure.retryable('the stub fails', 'STUB_FAILED', { attempt: info.attempt });
        return { output: { at: now }, attempt: info.attempt };
      },
    };
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
      activities: stubs,
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  let runs = 0;
  /** Runs a definition to its end; its result or failure, and the server time it took. */
  async function run(definition: Definition) {
    const runId = `time-${++runs}`;
    const input: RunInput = {
      ...stampRun(undefined),
      tenantId: 'default',
      workflowId: 'wf',
      version: 1,
      definition,
      trigger: null,
    };
    const handle = await env.client.workflow.start('interpreter', { workflowId: runId, taskQueue, args: [input] });
    const result = await handle.result().then(
      (value: unknown) => ({ value, error: undefined }),
      (err: unknown) => ({ value: undefined, error: err instanceof WorkflowFailedError ? err.cause : err }),
    );
    const { startTime, closeTime } = await handle.describe();
    return { ...result, tookMs: (closeTime?.getTime() ?? Number.NaN) - startTime.getTime() };
  }
  /** A regular (not local) connector step on the stub. */
  const stub = (
    id: string,
    config: Record<string, unknown>,
    more: Partial<Pick<ConnectorStep, 'retry' | 'timeout' | 'onError'>> = {},
  ): Step => ({
    id,
    type: 'http',
    local: false,
    config: { url: 'http://stub', ...config },
    ...more,
  });

  it('a delay of three hours waits three hours of workflow time, and the step after it is scheduled then', async () => {
    const started = Date.now();
    const { value, tookMs } = await run({
      name: 'delay',
      steps: [stub('before', {}), { id: 'wait', type: 'delay', config: { duration: '3h' } }, stub('after', {})],
    });
    assert.ok(value, 'the run completed');
    const [before] = attempts.get('before') ?? [];
    const [later] = attempts.get('after') ?? [];
    assert.ok(before !== undefined && later !== undefined);
    assert.ok(
      later - before >= 3 * HOUR && later - before < 3 * HOUR + MINUTE,
      `the step after the delay ran ${later - before} ms after the one before`,
    );
    assert.ok(tookMs >= 3 * HOUR, `the run took ${tookMs} ms of workflow time`);
    assert.ok(Date.now() - started < 60_000, 'and little real time');
  });

  it('a failing step is retried on its schedule: 1 min, then 2 min (initialInterval 1m, backoff 2)', async () => {
    const retry = { maxAttempts: 3, initialInterval: '1m', backoffCoefficient: 2 };
    const { value } = await run({
      name: 'retries',
      steps: [stub('flaky', { fail: true }, { retry, onError: 'continue' })],
    });
    assert.ok(value, 'onError: continue lets the run complete');
    const times = attempts.get('flaky') ?? [];
    assert.equal(times.length, 3, 'three attempts, then the step gave up');
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    assert.ok(
      gaps[0] !== undefined && gaps[0] >= MINUTE && gaps[0] < MINUTE + 10_000,
      `first retry after ${gaps[0]} ms`,
    );
    assert.ok(
      gaps[1] !== undefined && gaps[1] >= 2 * MINUTE && gaps[1] < 2 * MINUTE + 10_000,
      `second retry after ${gaps[1]} ms`,
    );
  });

  it('wait_for_event gives up after its timeout (2 h of workflow time) and goes to onTimeout', async () => {
    const { value, tookMs } = await run({
      name: 'event timeout',
      steps: [
        { id: 'wait', type: 'wait_for_event', config: { name: 'approved', timeout: '2h' }, onTimeout: 'late' },
        { id: 'never', type: 'fail', config: { message: 'not reached' } },
        { id: 'late', type: 'transform', config: { expression: 'steps.wait.output' } },
      ],
    });
    assert.deepEqual(value, { output: { timedOut: true } });
    assert.ok(tookMs >= 2 * HOUR && tookMs < 2 * HOUR + MINUTE, `the run took ${tookMs} ms`);
  });

  it('a run with timeout 1h fails with RUN_TIMED_OUT one hour in, while a 5 h delay still waits', async () => {
    const { error, tookMs } = await run({
      name: 'run timeout',
      timeout: '1h',
      steps: [{ id: 'wait', type: 'delay', config: { duration: '5h' } }],
    });
    assert.ok(error instanceof ApplicationFailure, `the run failed: ${String(error)}`);
    assert.equal(error.type, 'RUN_TIMED_OUT');
    assert.ok(tookMs >= HOUR && tookMs < HOUR + MINUTE, `the run took ${tookMs} ms`);
  });
});

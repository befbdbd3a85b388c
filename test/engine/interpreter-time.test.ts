import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as realTime } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createExpressionActivities } from '../../src/activities/expressions.js';
import type { ConnectorStep, Definition, Step } from '../../src/definitions/schema.js';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../../src/worker/bundle.js';
import { eventSignal, runStateQuery, type RunInput } from '../../src/workflows/run-model.js';
import { stampRun } from '../../src/workflows/revisions.js';
import { startTimeSkipping } from '../helpers/temporal.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

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
    env = await startTimeSkipping();
    const stubs = {
      ...createExpressionActivities(),
      async recordRun(): Promise<void> {},
      async recordDeadLetter(): Promise<void> {},
      /**
       * Records the attempt; fails when its config says `fail`. With `hangMs`, the first
       * `hangAttempts` attempts (all without it) take that long in real time: the server does not
       * skip time while an activity runs, so a step timeout has to pass for real.
       */
      async http(input: { stepId: string; config: unknown }): Promise<{ output: unknown; attempt: number }> {
        const info = Context.current().info;
        const now = await env.currentTimeMs();
        attempts.set(input.stepId, [...(attempts.get(input.stepId) ?? []), now]);
        const config = typeof input.config === 'object' && input.config !== null ? input.config : {};
        const hangs =
          'hangAttempts' in config && typeof config.hangAttempts === 'number' ? config.hangAttempts : Infinity;
        if ('hangMs' in config && typeof config.hangMs === 'number' && info.attempt <= hangs)
          await realTime(config.hangMs);
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
  /** Starts a run of a definition. */
  async function start(definition: Definition) {
    const runId = `time-${++runs}`;
    const input: RunInput = {
      ...stampRun(undefined),
      tenantId: 'default',
      workflowId: 'wf',
      version: 1,
      definition,
      trigger: null,
    };
    return env.client.workflow.start('interpreter', { workflowId: runId, taskQueue, args: [input] });
  }
  /** Waits for a run's end; its result or failure, and the server time it took. */
  async function settle(handle: WorkflowHandle) {
    const result = await handle.result().then(
      (value: unknown) => ({ value, error: undefined }),
      (err: unknown) => ({ value: undefined, error: err instanceof WorkflowFailedError ? err.cause : err }),
    );
    const { startTime, closeTime } = await handle.describe();
    return { ...result, tookMs: (closeTime?.getTime() ?? Number.NaN) - startTime.getTime() };
  }
  /** Runs a definition to its end. */
  const run = async (definition: Definition) => settle(await start(definition));
  /** The gaps between consecutive attempts of a step, in server time. */
  const gapsOf = (stepId: string) => {
    const times = attempts.get(stepId) ?? [];
    return times.slice(1).map((t, i) => t - (times[i] ?? 0));
  };
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

  it('a step that outlasts its 1 s timeout fails STEP_TIMEOUT after its 3 attempts, retried 1 min apart', async () => {
    const retry = { maxAttempts: 3, initialInterval: '1m', backoffCoefficient: 1 };
    const handle = await start({
      name: 'step timeout',
      steps: [stub('slow', { hangMs: 2_000 }, { timeout: '1s', retry, onError: 'continue' })],
    });
    const { value } = await settle(handle);
    assert.ok(value, 'onError: continue lets the run complete');
    const { steps } = await handle.query(runStateQuery);
    const slow = steps.find((s) => s.id === 'slow');
    assert.equal(slow?.status, 'failed');
    assert.equal(slow?.error?.code, 'STEP_TIMEOUT');
    assert.equal(slow?.attempts, 3);
    assert.equal(attempts.get('slow')?.length, 3, 'the activity was started three times');
    // Each retry waits out the 1 s timeout (real time: the server skips none while an activity runs), then 1 min.
    for (const gap of gapsOf('slow'))
      assert.ok(gap >= MINUTE + 500 && gap < MINUTE + 15_000, `a retry came ${gap} ms after the attempt before`);
  });

  it('a step that times out on its first attempt completes on its retry', async () => {
    const retry = { maxAttempts: 3, initialInterval: '1m' };
    // The attempt that answers must do so within the timeout, in real time: 5 s is far more than
    // it takes even on a loaded machine (1 s was not); the first attempt hangs past it.
    const { value } = await run({
      name: 'timeout then success',
      steps: [stub('once-slow', { hangMs: 8_000, hangAttempts: 1 }, { timeout: '5s', retry })],
    });
    assert.ok(value, 'the run completed');
    assert.equal(attempts.get('once-slow')?.length, 2, 'one timed-out attempt, then one that answered');
  });

  it('a 5-attempt backoff (30 min doubling, capped at 2 h) spaces retries 30 min, 1 h, 2 h, 2 h apart', async () => {
    const started = Date.now();
    const retry = { maxAttempts: 5, initialInterval: '30m', backoffCoefficient: 2, maximumInterval: '2h' };
    const { value, tookMs } = await run({
      name: 'long backoff',
      steps: [stub('backoff', { fail: true }, { retry, onError: 'continue' })],
    });
    assert.ok(value, 'onError: continue lets the run complete');
    assert.equal(attempts.get('backoff')?.length, 5, 'five attempts, then the step gave up');
    const expected = [30 * MINUTE, HOUR, 2 * HOUR, 2 * HOUR];
    gapsOf('backoff').forEach((gap, i) => {
      const want = expected[i] ?? Number.NaN;
      assert.ok(gap >= want && gap < want + 10_000, `retry ${i + 1} came after ${gap} ms, expected ${want}`);
    });
    assert.ok(tookMs >= 5.5 * HOUR, `the run took ${tookMs} ms of workflow time`);
    assert.ok(Date.now() - started < 60_000, 'and little real time');
  });

  it('a delay of 2 days, then a delay until a time 5 days after the start, each wait in workflow time', async () => {
    const startedAt = await env.currentTimeMs();
    const until = new Date(startedAt + 5 * DAY).toISOString();
    const { value } = await run({
      name: 'days',
      steps: [
        stub('day-0', {}),
        { id: 'two-days', type: 'delay', config: { duration: '2d' } },
        stub('day-2', {}),
        { id: 'until-day-5', type: 'delay', config: { until } },
        stub('day-5', {}),
      ],
    });
    assert.ok(value, 'the run completed');
    const [day0] = attempts.get('day-0') ?? [];
    const [day2] = attempts.get('day-2') ?? [];
    const [day5] = attempts.get('day-5') ?? [];
    assert.ok(day0 !== undefined && day2 !== undefined && day5 !== undefined);
    assert.ok(day2 - day0 >= 2 * DAY && day2 - day0 < 2 * DAY + MINUTE, `2d delay took ${day2 - day0} ms`);
    assert.ok(
      day5 >= startedAt + 5 * DAY && day5 < startedAt + 5 * DAY + MINUTE,
      `until ended ${day5 - startedAt} ms in`,
    );
  });

  it('wait_for_event without onTimeout fails the run with EVENT_TIMEOUT once its 1 d timeout passes', async () => {
    const { error, tookMs } = await run({
      name: 'event timeout fails',
      steps: [{ id: 'wait', type: 'wait_for_event', config: { name: 'approved', timeout: '1d' } }],
    });
    assert.ok(error instanceof ApplicationFailure, `the run failed: ${String(error)}`);
    assert.equal(error.type, 'EVENT_TIMEOUT');
    assert.ok(tookMs >= DAY && tookMs < DAY + MINUTE, `the run took ${tookMs} ms`);
  });

  it('an event that arrives 1 h into a 1 d wait_for_event resumes the run then, with its payload', async () => {
    const handle = await start({
      name: 'event arrives',
      steps: [{ id: 'wait', type: 'wait_for_event', config: { name: 'approved', timeout: '1d' } }],
    });
    await env.sleep(HOUR);
    await handle.signal(eventSignal, { name: 'approved', payload: { by: 'ada' } });
    const { value, tookMs } = await settle(handle);
    assert.deepEqual(value, { output: { by: 'ada' } });
    assert.ok(tookMs >= HOUR && tookMs < HOUR + MINUTE, `the run took ${tookMs} ms`);
  });
});

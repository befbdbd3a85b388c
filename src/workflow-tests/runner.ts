import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { createExpressionActivities } from '../activities/expressions.js';
import { registry } from '../activities/registry.js';
import { toMillis } from '../definitions/duration.js';
import type { Definition, Step } from '../definitions/schema.js';
import { validateDefinition } from '../definitions/validate.js';
import { definitionAt, readDataFile } from '../shared/data-files.js';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../worker/bundle.js';
import {
  eventSignal,
  redriveSignal,
  runStateQuery,
  type RunInput,
  type RunResult,
  type RunSnapshot,
} from '../workflows/run-model.js';
import { stampRun } from '../workflows/revisions.js';
import { check, flattenSteps } from './expectations.js';
import type { CaseResult } from './junit.js';
import { checkMocks, mockActivities, type MocksByRun } from './mocks.js';
import { casesOf, TestFileSchema, type TestCase } from './spec.js';

export interface RunTestsOptions {
  /** The time-skipping test server's binary; default: the one `npm test` provisioned, else the SDK's download. */
  testServer?: string;
  /** HTTP_ALLOWLIST for steps mocked `real`. */
  allowlist: string;
  /** Real time a case may take before it counts as hung. */
  caseTimeoutMs: number;
  /** Called with each case's result as it ends. */
  onResult?: (result: CaseResult) => void;
}

interface Loaded {
  file: string;
  definition?: Definition;
  stepTypes: Map<string, string>;
  cases: TestCase[];
  /** Why the file cannot run at all. */
  error?: string;
}

const TASK_QUEUE = 'mz-test';
const stepTypesOf = (steps: readonly Step[], into: Map<string, string>): Map<string, string> => {
  for (const s of steps) {
    into.set(s.id, s.type);
    if ('steps' in s && Array.isArray(s.steps)) stepTypesOf(s.steps, into);
    if ('branches' in s && Array.isArray(s.branches)) for (const b of s.branches) stepTypesOf(b, into);
  }
  return into;
};

async function load(file: string): Promise<Loaded> {
  const empty = { file, stepTypes: new Map<string, string>(), cases: [] };
  try {
    const parsed = TestFileSchema.safeParse(await readDataFile(file));
    if (!parsed.success)
      return { ...empty, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n') };
    const { definition: raw } = await definitionAt(parsed.data.definition, file);
    const cases = casesOf(parsed.data, file);
    const valid = validateDefinition(raw, registry);
    if (!valid.ok)
      return { ...empty, cases, error: valid.problems.map((p) => `definition ${p.pointer}: ${p.message}`).join('\n') };
    return { file, definition: valid.definition, stepTypes: stepTypesOf(valid.definition.steps, new Map()), cases };
  } catch (err) {
    return { ...empty, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The test server `scripts/ensure.mjs` provisioned, when this is a checkout of the project. */
function provisionedTestServer(): string | undefined {
  const paths = new URL('../../.tools/paths.json', import.meta.url);
  if (!existsSync(paths)) return undefined;
  const { testServer } = JSON.parse(readFileSync(paths, 'utf8')) as { testServer?: string };
  return testServer;
}

/** The SDK gives the server 5 s to start; on a busy machine that can pass, so a timed-out start is tried again. */
async function startServer(path: string | undefined): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping(
        path ? { server: { executable: { type: 'existing-path', path } } } : {},
      );
    } catch (err) {
      if (!/did not start within/.test(String(err)) || attempt === 5) throw err;
      await sleep(1000 * 2 ** (attempt - 1));
    }
  }
}

/** Waits until the step waits (a wait_for_event step), reading the run's live state; bounded in real time. */
async function untilWaiting(handle: WorkflowHandle, stepId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = await handle.query(runStateQuery);
    if (flattenSteps(state.steps).get(stepId)?.status === 'waiting') return;
    if (['completed', 'failed', 'cancelled', 'timed_out'].includes(state.status) && state.steps.length) break;
    await sleep(50);
  }
  throw new Error(`step '${stepId}' never waited for an event`);
}

/**
 * Runs workflow tests on Temporal's time-skipping test server, through the real interpreter and
 * expression engine, with connector steps answered by the tests' mocks: timers, timeouts and
 * retry backoff pass at once. Every connector step runs as a regular activity here, so its
 * retries are server timers that skip too. Answers each case's result.
 */
export async function runTests(files: readonly string[], opts: RunTestsOptions): Promise<CaseResult[]> {
  const loaded = await Promise.all(files.map(load));
  const results: CaseResult[] = [];
  const report = (r: CaseResult) => (results.push(r), opts.onResult?.(r));
  for (const l of loaded.filter((f) => f.error))
    for (const c of l.cases.length ? l.cases : [{ name: '(file)' }])
      report({ file: l.file, name: c.name, failures: [l.error ?? ''], ms: 0 });
  const runnable = loaded.filter((l) => !l.error);
  if (!runnable.length) return results;

  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const env = await startServer(opts.testServer ?? provisionedTestServer());
  const mocks: MocksByRun = new Map();
  try {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES },
      // The run index is the API's; a test reads the run's own state instead.
      sinks: { runIndex: { recordEnd: { fn: () => undefined } } },
      activities: {
        ...createExpressionActivities(),
        ...mockActivities(mocks, { allowlist: opts.allowlist, code: { maxMs: 1000, maxMemoryMb: 64 } }),
        async recordRun(): Promise<void> {},
        async reserveStart(): Promise<{ waitMs: number }> {
          return { waitMs: 0 };
        },
        /** A step that failed for good parks its run; a test discards it at once, so the run fails. */
        async recordDeadLetter(input: { id: string; executionId: string }): Promise<void> {
          const decision = { deadLetterId: input.id, action: 'discard' as const, reason: 'mz test' };
          void env.client.workflow
            .getHandle(input.executionId)
            .signal(redriveSignal, decision)
            .catch(() => undefined);
        },
      },
    });
    await worker.runUntil(async () => {
      let n = 0;
      for (const l of runnable)
        for (const c of l.cases) report(await runCase(env, l, c, `mz-test-${++n}`, mocks, opts.caseTimeoutMs));
    });
  } finally {
    await env.teardown();
  }
  return results;
}

async function runCase(
  env: TestWorkflowEnvironment,
  loaded: Loaded,
  testCase: TestCase,
  runId: string,
  mocks: MocksByRun,
  timeoutMs: number,
): Promise<CaseResult> {
  const started = Date.now();
  const result = (failures: string[]) => ({
    file: loaded.file,
    name: testCase.name,
    failures,
    ms: Date.now() - started,
  });
  const problems = checkMocks(testCase.mocks, loaded.stepTypes);
  if (problems.length || !loaded.definition) return result(problems);
  mocks.set(runId, testCase.mocks);
  // Regular activities (not local ones): their retry backoff is a server timer, which the test server skips.
  const connectors = Object.fromEntries(
    Object.entries(registry.defaults()).map(([t, d]) => [t, { ...d, local: false }]),
  );
  const input: RunInput = {
    ...stampRun(undefined, connectors),
    tenantId: 'test',
    workflowId: 'test',
    version: 1,
    definition: loaded.definition,
    trigger: testCase.trigger ?? null,
    source: { type: 'api' },
  };
  const handle = await env.client.workflow.start('interpreter', {
    workflowId: runId,
    taskQueue: TASK_QUEUE,
    args: [input],
  });
  try {
    for (const event of testCase.events) {
      if (event.after) await env.sleep(toMillis(event.after));
      if (event.at) await untilWaiting(handle, event.at, timeoutMs);
      await handle.signal(eventSignal, { name: event.name, payload: event.payload ?? null });
    }
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      handle.result().then(
        (r: RunResult) => ({ output: r.output }),
        () => ({ output: undefined }),
      ),
      new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (ended === 'hung') {
      await handle.terminate('mz test: the run did not end').catch(() => undefined);
      const state: RunSnapshot = await handle
        .query(runStateQuery)
        .catch(() => ({ status: 'running', steps: [], result: null, error: null }));
      const waiting = [...flattenSteps(state.steps).values()].filter((s) => s.status === 'waiting').map((s) => s.id);
      return result([
        `the run did not end within ${timeoutMs / 1000}s of real time${waiting.length ? ` (waiting in ${waiting.join(', ')}: send it an event?)` : ''}`,
      ]);
    }
    const snapshot = await handle.query(runStateQuery);
    return result(check(testCase.expect, { ...snapshot, output: ended.output }));
  } catch (err) {
    return result([err instanceof Error ? err.message : String(err)]);
  } finally {
    mocks.delete(runId);
  }
}

import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  executeChild,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  TimeoutFailure,
  uuid4,
} from '@temporalio/workflow';
import type { ConnectorActivities, DefinitionActivities } from '../activities/activities.js';
import type { ConnectorResult } from '../activities/connector.js';
import { connectorDefaults, isConnectorStep } from '../activities/defaults.js';
import { toMillis } from '../definitions/duration.js';
import { evaluateNow, isObject, LATER, renderNow } from '../definitions/expressions.js';
import type { ConnectorStep, Step } from '../definitions/schema.js';
import { AppError } from '../shared/errors.js';
import { runSearchAttributes } from '../temporal/search-attributes.js';
import { foreach, parallel } from './blocks.js';
import { attemptsOf, StepFailure, toStepError } from './errors.js';
import type { interpreter } from './interpreter.js';
import type { RunInput } from './messages.js';
import { REVISIONS, stampRun } from './revisions.js';
import type { Scope } from './scope.js';
import type { executeSequence, SequenceEnd } from './sequence.js';

/** What running one step produced: its output, and where to go or whether the sequence ends. */
export interface StepOutcome {
  output: unknown;
  attempts?: number;
  goto?: string;
  end?: SequenceEnd;
}

export type RunSequence = typeof executeSequence;

const { loadDefinition } = proxyLocalActivities<DefinitionActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 10, maximumInterval: '10s' } });

/** Runs one step of any type; the type checker insists every type is handled. */
export async function runStep(step: Step, scope: Scope, executions: number, runSequence: RunSequence): Promise<StepOutcome> {
  if (isConnectorStep(step)) return connector(step, scope, executions);
  switch (step.type) {
    case 'delay':
      return delay(step, scope);
    case 'transform': {
      const now = evaluateNow(step.config.expression, scope.context(), scope.run.evaluation);
      return { output: now === LATER ? await scope.run.evaluate(step.config.expression, scope.context()) : now };
    }
    case 'choice':
      return choice(step, scope);
    case 'parallel':
      return parallel(step, scope, runSequence);
    case 'foreach':
      return foreach(step, scope, executions, runSequence);
    case 'wait_for_event':
      return waitForEvent(step, scope);
    case 'subworkflow':
      return subworkflow(step, scope, executions);
    case 'succeed': {
      const output = step.config?.output === undefined ? scope.lastOutput : await scope.run.render(step.config.output, scope.context());
      return { output, end: { status: 'completed', output } };
    }
    case 'fail': {
      const message = step.config?.message === undefined ? 'ended by a fail step' : String(await scope.run.render(step.config.message, scope.context()));
      return { output: null, end: { status: 'failed', error: { code: step.config?.error ?? 'WORKFLOW_FAILED', message } } };
    }
    default: {
      const unhandled: never = step;
      throw new AppError({ code: 'UNKNOWN_STEP_TYPE', message: `no handler for step ${JSON.stringify(unhandled)}` });
    }
  }
}

async function delay(step: Extract<Step, { type: 'delay' }>, scope: Scope): Promise<StepOutcome> {
  const config = await scope.run.render(step.config, scope.context());
  const ms = isObject(config) && typeof config.duration === 'string' ? toMillis(config.duration) : untilMillis(config);
  if (ms > 0) await waiting(scope, step.id, () => sleep(ms));
  return { output: null };
}

function untilMillis(config: unknown): number {
  const until = isObject(config) ? config.until : undefined;
  const at = typeof until === 'string' ? Date.parse(until) : Number.NaN;
  if (Number.isNaN(at)) throw new AppError({ code: 'INVALID_CONFIG', message: `delay until '${String(until)}' is not a time` });
  return at - Date.now();
}

/** Marks the step and the run as waiting while `fn` runs. */
async function waiting<T>(scope: Scope, stepId: string, fn: () => Promise<T>): Promise<T> {
  scope.setStatus(stepId, 'waiting');
  await scope.run.changeWaiting(1);
  try {
    return await fn();
  } finally {
    scope.setStatus(stepId, 'running');
    await scope.run.changeWaiting(-1);
  }
}

/** Picks the next step; its output is its input (the last output), as it only routes. */
async function choice(step: Extract<Step, { type: 'choice' }>, scope: Scope): Promise<StepOutcome> {
  for (const c of step.cases) {
    const now = evaluateNow(c.when, scope.context(), scope.run.evaluation);
    if (now === LATER ? await scope.run.evaluate(c.when, scope.context()) : now) return { output: scope.lastOutput, goto: c.next };
  }
  return { output: scope.lastOutput, goto: step.default };
}

async function waitForEvent(step: Extract<Step, { type: 'wait_for_event' }>, scope: Scope): Promise<StepOutcome> {
  const { name, timeout } = step.config;
  const run = scope.run;
  const arrived = await waiting(scope, step.id, () => condition(() => run.hasEvent(name), timeout === undefined ? undefined : toMillis(timeout)));
  if (arrived) return { output: run.takeEvent(name) };
  if (step.onTimeout !== undefined) return { output: { timedOut: true }, goto: step.onTimeout };
  throw new AppError({ code: 'EVENT_TIMEOUT', message: `no '${name}' event arrived within ${timeout}` });
}

/** Runs another stored workflow as a child run (its run id: `<runId>:<stepId>`) and returns its result. */
async function subworkflow(step: Extract<Step, { type: 'subworkflow' }>, scope: Scope, executions: number): Promise<StepOutcome> {
  const { identity } = scope.run;
  const input = step.config.input === undefined ? null : await scope.run.render(step.config.input, scope.context());
  const child = await loadDefinition({ tenantId: identity.tenantId, workflowId: step.config.workflowId, version: step.config.version });
  const childRunId = `${identity.runId}:${step.id}${executionSuffix(scope, executions)}`;
  const childInput: RunInput = { ...stampRun(identity.limits), tenantId: identity.tenantId, workflowId: child.id, version: child.version, definition: child.definition, trigger: input };
  try {
    const result = await executeChild<typeof interpreter>('interpreter', { workflowId: childRunId, args: [childInput], typedSearchAttributes: runSearchAttributes(childInput) });
    return { output: result.output };
  } catch (err) {
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    const cause = toStepError(err.cause);
    throw new StepFailure({ code: cause.code, message: `child run ${childRunId} failed: ${cause.message}`, details: { childRunId } }, 1, input);
  }
}

/** Connector steps with timeouts up to this run as local activities unless they say otherwise. */
const LOCAL_MAX_TIMEOUT_MS = 30_000;

/**
 * Runs a connector step as an activity whose retries and timeout come from the definition: a
 * local one (run by this worker inside the workflow task, so the step costs no server round trip)
 * when it is short, a regular one otherwise. Runs started before local steps keep regular ones.
 */
async function connector(step: ConnectorStep, scope: Scope, executions: number): Promise<StepOutcome> {
  const { identity } = scope.run;
  // A nonce per render: only references made by this render's `$secret()` calls are resolved.
  const secretNonce = scope.run.since(REVISIONS.boundedRuns) ? uuid4() : undefined;
  const evaluation = { ...scope.run.evaluation, secretNonce };
  const now = renderNow(step.config, scope.context(), evaluation);
  const config = now === LATER ? await scope.run.render(step.config, scope.context(), evaluation) : now;
  const defaults = connectorDefaults[step.type];
  const retry = { ...defaults.retry, ...identity.definition.defaults?.retry, ...step.retry };
  const timeoutMs = toMillis(step.timeout ?? identity.definition.defaults?.timeout ?? defaults.timeout);
  const suffix = executionSuffix(scope, executions);
  const options = {
    startToCloseTimeout: timeoutMs,
    retry: {
      maximumAttempts: retry.maxAttempts,
      initialInterval: retry.initialInterval && toMillis(retry.initialInterval),
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumInterval && toMillis(retry.maximumInterval),
      nonRetryableErrorTypes: retry.nonRetryable,
    },
  };
  const local = (step.local ?? timeoutMs <= LOCAL_MAX_TIMEOUT_MS) && scope.run.since(REVISIONS.localConnectorSteps);
  const activities = local
    ? proxyLocalActivities<ConnectorActivities>(options)
    : proxyActivities<ConnectorActivities>({ ...options, activityId: `${step.id}${suffix}`, heartbeatTimeout: Math.min(timeoutMs, 10_000) });
  const input = { config, runId: identity.runId, workflowId: identity.workflowId, tenantId: identity.tenantId, stepId: step.id, idempotencyKey: `${identity.runId}:${step.id}${suffix}`, ...(secretNonce ? { secretNonce } : {}) };
  try {
    const result: ConnectorResult = await activities[step.type](input);
    return { output: result.output, attempts: result.attempt };
  } catch (err) {
    // A regular activity's failure comes wrapped in an ActivityFailure, a local one's as it is.
    if (!(err instanceof ActivityFailure || err instanceof ApplicationFailure || err instanceof TimeoutFailure)) throw err;
    throw new StepFailure(toStepError(err), attemptsOf(err, retry.maxAttempts), config);
  }
}

/**
 * What tells one execution of a step from another in idempotency keys, activity ids and child
 * ids: `[3]` inside the fourth foreach item, `:2` when a loop runs the step a second time.
 */
export const executionSuffix = (scope: Scope, executions: number): string => `${scope.keySuffix}${executions > 1 ? `:${executions}` : ''}`;

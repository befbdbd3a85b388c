import { ActivityFailure, ApplicationFailure, proxyActivities, sleep, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { ConnectorActivities } from '../activities/activities.js';
import type { ConnectorResult } from '../activities/connector.js';
import { connectors } from '../activities/registry.js';
import { toMillis } from '../definitions/duration.js';
import { evaluate, isObject, render } from '../definitions/expressions.js';
import { isConnectorStep, type ConnectorStep, type Definition, type Step } from '../definitions/schema.js';
import { AppError } from '../shared/errors.js';
import type { StepError } from './messages.js';
import type { RunState } from './run-state.js';

/** What running one step produced. `end` stops the run (succeed/fail steps). */
export interface StepOutcome {
  output: unknown;
  attempts?: number;
  end?: { status: 'completed'; output: unknown } | { status: 'failed'; error: StepError };
}


async function delay(step: Extract<Step, { type: 'delay' }>, run: RunState): Promise<StepOutcome> {
  const config = await render(step.config, run.context);
  const ms = isObject(config) && typeof config.duration === 'string' ? toMillis(config.duration) : untilMillis(config);
  if (ms > 0) {
    await run.setStatus('waiting', step.id);
    await sleep(ms);
    await run.setStatus('running', step.id);
  }
  return { output: null };
}

function untilMillis(config: unknown): number {
  const until = isObject(config) ? config.until : undefined;
  const at = typeof until === 'string' ? Date.parse(until) : Number.NaN;
  if (Number.isNaN(at)) throw new AppError({ code: 'INVALID_CONFIG', message: `delay until '${String(until)}' is not a time` });
  return at - Date.now();
}

/** Runs a connector step as an activity whose retries and timeout come from the definition. */
async function connector(step: ConnectorStep, run: RunState, executions: number, definition: Definition): Promise<StepOutcome> {
  const config = await render(step.config, run.context);
  const { defaults } = connectors[step.type];
  const retry = { ...defaults.retry, ...definition.defaults?.retry, ...step.retry };
  const timeout = step.timeout ?? definition.defaults?.timeout ?? defaults.timeout;
  const suffix = executions > 1 ? `:${executions}` : '';
  const activities = proxyActivities<ConnectorActivities>({
    activityId: `${step.id}${suffix}`,
    startToCloseTimeout: toMillis(timeout),
    retry: {
      maximumAttempts: retry.maxAttempts,
      initialInterval: retry.initialInterval && toMillis(retry.initialInterval),
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumInterval && toMillis(retry.maximumInterval),
      nonRetryableErrorTypes: retry.nonRetryable,
    },
  });
  const { workflowId: runId } = workflowInfo();
  const input = { config, runId, workflowId: run.workflowId, tenantId: run.tenantId, stepId: step.id, idempotencyKey: `${runId}:${step.id}${suffix}` };
  try {
    const result: ConnectorResult = await activities[step.type](input);
    return { output: result.output, attempts: result.attempt };
  } catch (err) {
    throw new StepFailure(toStepError(err), attemptsOf(err, retry.maxAttempts));
  }
}

/** A failed step, with the attempts it took. */
export class StepFailure extends Error {
  constructor(readonly error: StepError, readonly attempts: number) {
    super(error.message);
    this.name = 'StepFailure';
  }
}

export function toStepError(err: unknown): StepError {
  if (err instanceof StepFailure) return err.error;
  if (err instanceof AppError) return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const { attempt: _attempt, ...details } = detailsOf(cause);
    return { code: cause.type ?? 'ACTIVITY_FAILED', message: cause.message, ...(Object.keys(details).length ? { details } : {}) };
  }
  if (cause instanceof TimeoutFailure) return { code: 'STEP_TIMEOUT', message: `the step timed out (${cause.timeoutType})` };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function attemptsOf(err: unknown, maxAttempts: number | undefined): number {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const attempt = cause instanceof ApplicationFailure ? detailsOf(cause).attempt : undefined;
  return typeof attempt === 'number' ? attempt : (maxAttempts ?? 1);
}

const detailsOf = (failure: ApplicationFailure): Record<string, unknown> => {
  const first = failure.details?.[0];
  return isObject(first) ? first : {};
};

/** Runs one step of any type; the type checker insists every type is handled. */
export async function runStep(step: Step, run: RunState, executions: number, definition: Definition): Promise<StepOutcome> {
  if (isConnectorStep(step)) return connector(step, run, executions, definition);
  switch (step.type) {
    case 'delay':
      return delay(step, run);
    case 'transform':
      return { output: await evaluate(step.config.expression, run.context) };
    case 'succeed': {
      const output = step.config?.output === undefined ? run.lastOutput : await render(step.config.output, run.context);
      return { output, end: { status: 'completed', output } };
    }
    case 'fail': {
      const message = step.config?.message === undefined ? 'the run ended with a fail step' : String(await render(step.config.message, run.context));
      return { output: null, end: { status: 'failed', error: { code: step.config?.error ?? 'WORKFLOW_FAILED', message } } };
    }
    default: {
      const unhandled: never = step;
      throw new AppError({ code: 'UNKNOWN_STEP_TYPE', message: `no handler for step ${JSON.stringify(unhandled)}` });
    }
  }
}

import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  TimeoutFailure,
  uuid4,
} from '@temporalio/workflow';
import type { ConnectorActivities } from '../activities/activities.js';
import { splitVerbatim, type ConnectorResult } from '../activities/connector.js';
import { LEGACY_CONNECTOR_DEFAULTS } from '../activities/defaults.js';
import { toMillis } from '../definitions/duration.js';
import { isObject } from '../shared/json-values.js';
import { NEEDS_JSONATA } from '../definitions/expressions/fast-path.js';
import { renderNow } from '../definitions/expressions/templates.js';
import type { ConnectorStep } from '../definitions/schema.js';
import type { StepContext, StepOutcome } from './context.js';
import { attemptsOf, StepFailure, toStepError } from './errors.js';
import { REVISIONS } from './revisions.js';
import { stepSummary } from './summaries.js';
import { throttle } from './throttle.js';

/** Connector steps with timeouts up to this run as local activities unless they say otherwise. */
const LOCAL_MAX_TIMEOUT_MS = 30_000;

/**
 * Runs a connector step as an activity whose retries and timeout come from the definition: a
 * local one (run by this worker inside the workflow task, so the step costs no server round trip)
 * when it is short, a regular one otherwise. Runs started before local steps keep regular ones.
 */
export async function connector(step: ConnectorStep, { scope, suffix }: StepContext): Promise<StepOutcome> {
  const { identity } = scope.run;
  // A nonce per render: only references made by this render's `$secret()` calls are resolved.
  const secretNonce = scope.run.since(REVISIONS.boundedRuns) ? uuid4() : undefined;
  const evaluation = { ...scope.run.evaluation, secretNonce };
  const defaults = (identity.connectors ?? LEGACY_CONNECTOR_DEFAULTS)[step.type];
  const { template, verbatim } = splitVerbatim(step.config, defaults?.verbatim);
  const now = renderNow(template, scope.context(), evaluation);
  const rendered = now === NEEDS_JSONATA ? await scope.run.render(template, scope.context(), evaluation) : now;
  const config = verbatim ? { ...(isObject(rendered) ? rendered : {}), ...verbatim } : rendered;
  if (!defaults)
    throw new StepFailure(
      { code: 'UNKNOWN_CONNECTOR', message: `this run started before step type '${step.type}' existed` },
      1,
      step.config,
    );
  const retry = { ...defaults.retry, ...identity.definition.defaults?.retry, ...step.retry };
  const timeoutMs = toMillis(step.timeout ?? identity.definition.defaults?.timeout ?? defaults.timeout);
  const options = {
    startToCloseTimeout: timeoutMs,
    summary: stepSummary(step.id, suffix),
    retry: {
      maximumAttempts: retry.maxAttempts,
      initialInterval: retry.initialInterval && toMillis(retry.initialInterval),
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumInterval && toMillis(retry.maximumInterval),
      nonRetryableErrorTypes: retry.nonRetryable,
    },
  };
  const local =
    (step.local ?? defaults.local ?? timeoutMs <= LOCAL_MAX_TIMEOUT_MS) &&
    scope.run.since(REVISIONS.localConnectorSteps);
  const idempotencyKey = `${identity.runId}:${step.id}${suffix}`;
  const { rate, slot, release } = await throttle(step, scope, { holder: idempotencyKey, timeoutMs });
  // A slot is given back only once the call has stopped, even when the run is cancelled mid-call.
  const held = slot ? { ...options, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : options;
  const activities = local
    ? proxyLocalActivities<ConnectorActivities>(held)
    : proxyActivities<ConnectorActivities>({
        ...held,
        activityId: `${step.id}${suffix}`,
        heartbeatTimeout: Math.min(timeoutMs, 10_000),
      });
  const input = {
    config,
    runId: identity.runId,
    workflowId: identity.workflowId,
    tenantId: identity.tenantId,
    stepId: step.id,
    idempotencyKey,
    ...(secretNonce ? { secretNonce } : {}),
    ...(step.connection ? { connection: step.connection } : {}),
    ...(rate ? { rate } : {}),
    ...(slot ? { slot } : {}),
    ...(defaults.context ? { context: scope.context() } : {}),
  };
  try {
    const result: ConnectorResult = await activities[step.type](input);
    return { output: result.output, attempts: result.attempt };
  } catch (err) {
    // A regular activity's failure comes wrapped in an ActivityFailure, a local one's as it is.
    if (!(err instanceof ActivityFailure || err instanceof ApplicationFailure || err instanceof TimeoutFailure))
      throw err;
    throw new StepFailure(toStepError(err), attemptsOf(err, retry.maxAttempts), config);
  } finally {
    // Steps without a slot add no await here, so their commands keep the order they always had.
    if (slot) await release();
  }
}

import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { SecretsRepo } from '../db/secrets-repo.js';
import type { Metrics } from '../shared/metrics.js';
import { redact, redactText, revealSecrets } from './secrets.js';
import { AppError } from '../shared/errors.js';
import type { ConnectorInput, ConnectorResult } from './connector.js';

/** What a connector's `execute` gets besides its config. */
export interface ExecuteContext {
  input: ConnectorInput;
  /** Aborted when the step is cancelled or its timeout passes. */
  signal: AbortSignal;
  attempt: number;
  /** The secret values this attempt revealed into the config, so a connector can keep them from where they do not belong. */
  secrets: readonly string[];
}

/** What a connector activity is built from. */
export interface ConnectorParts<S extends z.ZodType> {
  type: string;
  schema: S;
  execute: (config: z.output<S>, ctx: ExecuteContext) => Promise<unknown>;
  metrics?: Metrics;
  /** Where `$secret('name')` placeholders are resolved (per tenant); without it they stay as they are. */
  secrets?: Pick<SecretsRepo, 'reveal'>;
  /** The largest output a step may return (STEP_OUTPUT_MAX_BYTES); default 8 MiB. */
  maxOutputBytes?: number;
}

/**
 * An output above the bound fails the step for good, before it reaches the workflow: retrying
 * would fetch it again, and the run's state and history are bounded.
 */
function checkOutputSize(output: unknown, max: number): void {
  const bytes = JSON.stringify(output)?.length ?? 0;
  if (bytes > max) {
    throw new AppError({ code: 'OUTPUT_TOO_LARGE', message: `the step's output is ${bytes} bytes as JSON, more than the bound of ${max}`, details: { bytes, max } });
  }
}

/**
 * Turns a connector's `execute` into a Temporal activity: resolves secrets (and redacts them from
 * the output and any error), validates the evaluated config, and converts errors at the boundary
 * into `ApplicationFailure`s whose type is the stable code, non-retryable for user mistakes, with
 * the server's `Retry-After` as the next retry delay.
 */
export function connectorActivity<S extends z.ZodType>({ type, schema, execute, metrics, secrets, maxOutputBytes = 8 * 1024 * 1024 }: ConnectorParts<S>) {
  return async (input: ConnectorInput): Promise<ConnectorResult> => {
    const { info, cancellationSignal, log } = Context.current();
    const attempt = info.attempt;
    let used: string[] = [];
    const timer = metrics?.stepSeconds.startTimer({ type });
    metrics?.stepAttempts.inc({ type });
    // Heartbeats carry a run's cancellation to a regular activity, and a dead worker's step is
    // retried sooner; a local activity hears of cancellation from its own worker.
    const heartbeats = info.isLocal ? undefined : setInterval(() => Context.current().heartbeat(), 1_000);
    // Not AbortSignal.timeout: held only by AbortSignal.any, Node 20 may garbage-collect it before
    // it fires, and a slow response would then outlive the step's timeout.
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(() => deadline.abort(new DOMException('the step timed out', 'TimeoutError')), info.startToCloseTimeoutMs);
    try {
      const revealed = secrets ? await revealSecrets(input.config, (name) => secrets.reveal(input.tenantId, name), input.secretNonce) : { value: input.config, used };
      used = revealed.used;
      const parsed = schema.safeParse(revealed.value);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
        throw new AppError({ code: 'INVALID_CONFIG', message: `the step's config is invalid after evaluating its expressions: ${problems.join('; ')}` });
      }
      const signal = AbortSignal.any([cancellationSignal, deadline.signal]);
      const output = redact(await execute(parsed.data, { input, signal, attempt, secrets: used }), used);
      checkOutputSize(output, maxOutputBytes);
      timer?.({ outcome: 'completed' });
      return { output, attempt };
    } catch (err) {
      if (cancellationSignal.aborted) throw new CancelledFailure('the step was cancelled');
      const failure = toFailure(err, attempt, used);
      timer?.({ outcome: 'failed' });
      metrics?.stepFailures.inc({ type, code: failure.type ?? 'UNKNOWN' });
      log.warn('step attempt failed', { runId: input.runId, workflowId: input.workflowId, stepId: input.stepId, tenant: input.tenantId, code: failure.type, attempt, retryable: !failure.nonRetryable });
      throw failure;
    } finally {
      clearInterval(heartbeats);
      clearTimeout(deadlineTimer);
    }
  };
}

/** An error as Temporal should see it: the stable code as type, retryable or not, Retry-After. */
export function toFailure(err: unknown, attempt: number, secrets: string[] = []): ApplicationFailure {
  if (err instanceof AppError) {
    return ApplicationFailure.create({
      type: err.code,
      message: redactText(err.message, secrets),
      nonRetryable: !err.retryable,
      details: [redact({ attempt, ...(typeof err.details === 'object' && err.details !== null ? err.details : {}) }, secrets)],
      nextRetryDelay: err.retryAfterMs,
    });
  }
  const message = redactText(err instanceof Error ? err.message : String(err), secrets);
  return ApplicationFailure.create({ type: 'CONNECTOR_FAULT', message, nonRetryable: false, details: [{ attempt }] });
}

import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { z } from 'zod';
import { assertSecretsPlaced, parseResolved, revealReferences, type ConnectionKind } from './connection-kind.js';
import type { ConnectorDeps } from './define-connector.js';
import { holdSlot, pause } from './rate/hold.js';
import { redact, redactText, revealSecrets } from './secrets.js';
import { AppError } from '../shared/errors.js';
import { nestedDeeperThan } from '../shared/json-depth.js';
import type { ConnectorInput, ConnectorResult, StepRate } from './connector.js';

/** What a connector's `execute` gets besides its config. */
export interface ExecuteContext<C = undefined> {
  input: ConnectorInput;
  /** Aborted when the step is cancelled or its timeout passes. */
  signal: AbortSignal;
  attempt: number;
  /**
   * The secret values this attempt revealed (config and connection), so a connector can keep them
   * from where they do not belong; a connector adds what it obtains itself (an OAuth2 token).
   */
  secrets: string[];
  /** The step's stored connection, its secrets resolved; absent when the step names none. */
  connection?: C;
}

/** What a connector activity is built from. */
export interface ConnectorParts<S extends z.ZodType, C> {
  type: string;
  schema: S;
  execute: (config: z.output<S>, ctx: ExecuteContext<C>) => Promise<unknown>;
  connection?: { kind: ConnectionKind<C>; required: boolean };
  deps: Pick<ConnectorDeps, 'metrics' | 'secrets' | 'connections' | 'maxOutputBytes' | 'rates'>;
}

/**
 * An output above the bound fails the step for good, before it reaches the workflow: retrying
 * would fetch it again, and the run's state and history are bounded.
 */
function checkOutputSize(output: unknown, max: number): void {
  let text: string;
  try {
    text = JSON.stringify(output) ?? '';
  } catch {
    // Nested past what the stack holds: never retried, as fetching it again would nest it again.
    throw tooDeep();
  }
  if (text.length > max) {
    throw new AppError({
      code: 'OUTPUT_TOO_LARGE',
      message: `the step's output is ${text.length} bytes as JSON, more than the bound of ${max}`,
      details: { bytes: text.length, max },
    });
  }
  // The workflow and the run index parse outputs again, recursively: depth is bounded like sizes.
  if (nestedDeeperThan(text, MAX_OUTPUT_DEPTH)) throw tooDeep();
}

const MAX_OUTPUT_DEPTH = 128;
const tooDeep = () =>
  new AppError({
    code: 'OUTPUT_TOO_DEEP',
    message: `the step's output nests arrays and objects deeper than ${MAX_OUTPUT_DEPTH} levels`,
    details: { max: MAX_OUTPUT_DEPTH },
  });

/**
 * One attempt of a connector, outside Temporal too (the step test): resolves the config's secrets
 * and the step's connection, validates the evaluated config, executes, and redacts the secrets
 * used from the output. Every secret value revealed is pushed into `used`, so the caller can keep
 * them out of an error as well. When the upstream refuses credentials (401, 403, a refused login)
 * and some came from the external stores' cache, they are read afresh and the attempt runs once more.
 */
export async function runConnector<S extends z.ZodType, C>(
  parts: ConnectorParts<S, C>,
  input: ConnectorInput,
  at: { signal: AbortSignal; attempt: number; used: string[] },
): Promise<unknown> {
  const started = Date.now();
  const references: string[] = [];
  try {
    return await runOnce(parts, input, at, references);
  } catch (err) {
    // Credentials refused, and some came from the cache: perhaps rotated since. Read them afresh, once.
    if (!refusedCredentials(err) || !parts.deps.secrets?.invalidate?.(input.tenantId, references, started)) throw err;
    return runOnce(parts, input, at, []);
  }
}

/** Codes by which a connector says the upstream refused the credentials it was given. */
const CREDENTIALS_REFUSED = new Set([
  'HTTP_401',
  'HTTP_403',
  'SQL_AUTH_FAILED',
  'EMAIL_AUTH_FAILED',
  'KAFKA_AUTH_FAILED',
  'SLACK_AUTH_FAILED',
]);
const refusedCredentials = (err: unknown) => err instanceof AppError && CREDENTIALS_REFUSED.has(err.code);

async function runOnce<S extends z.ZodType, C>(
  parts: ConnectorParts<S, C>,
  input: ConnectorInput,
  at: { signal: AbortSignal; attempt: number; used: string[] },
  references: string[],
): Promise<unknown> {
  const { maxOutputBytes = 8 * 1024 * 1024 } = parts.deps;
  const secrets = parts.deps.secrets;
  const reveal = (name: string) => {
    references.push(name);
    if (!secrets) throw new AppError({ code: 'SECRETS_DISABLED', message: 'no secret store is configured' });
    return secrets.reveal(input.tenantId, name);
  };
  const revealed = secrets
    ? await revealSecrets(input.config, reveal, input.secretNonce)
    : { value: input.config, used: [] };
  at.used.push(...revealed.used);
  const parsed = parts.schema.safeParse(revealed.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new AppError({
      code: 'INVALID_CONFIG',
      message: `the step's config is invalid after evaluating its expressions: ${problems.join('; ')}`,
    });
  }
  const connection = await loadConnection(parts, input, at.used, reveal);
  await holdSlot(parts.deps.rates, input.slot, at.signal);
  await admitted(parts.deps.rates, input.rate, at.signal);
  const output = await parts.execute(parsed.data, {
    input,
    signal: at.signal,
    attempt: at.attempt,
    secrets: at.used,
    connection,
  });
  // Bounded before anything walks it (redaction recurses too).
  checkOutputSize(output, maxOutputBytes);
  return redact(output, at.used);
}

/** The step's connection, loaded for its tenant, of the kind the connector takes, its secrets resolved. */
async function loadConnection<C>(
  parts: ConnectorParts<z.ZodType, C>,
  input: ConnectorInput,
  used: string[],
  reveal: (name: string) => Promise<string>,
): Promise<C | undefined> {
  const name = input.connection;
  if (name === undefined) {
    if (parts.connection?.required)
      throw new AppError({
        code: 'CONNECTION_REQUIRED',
        message: `a ${parts.type} step names its connection in \`connection\``,
      });
    return undefined;
  }
  if (!parts.connection)
    throw new AppError({ code: 'CONNECTION_NOT_SUPPORTED', message: `a ${parts.type} step takes no connection` });
  const { connections } = parts.deps;
  if (!connections)
    throw new AppError({
      code: 'CONNECTIONS_UNAVAILABLE',
      message: 'this process has no connection store',
      retryable: true,
    });
  const stored = await connections.get(input.tenantId, name);
  const kind = parts.connection.kind;
  if (stored.type !== kind.type)
    throw new AppError({
      code: 'CONNECTION_TYPE_MISMATCH',
      message: `connection '${name}' is of type '${stored.type}'; a ${parts.type} step takes a '${kind.type}' connection`,
    });
  assertSecretsPlaced(kind.erased, stored.config, name);
  const revealed = await revealReferences(stored.config, reveal);
  used.push(...revealed.used);
  return parseResolved(kind.resolvedSchema, revealed.value, name);
}

/**
 * Turns a connector's `execute` into a Temporal activity (see `runConnector`), and converts
 * errors at the boundary into `ApplicationFailure`s whose type is the stable code, non-retryable
 * for user mistakes, with the server's `Retry-After` as the next retry delay.
 */
export function connectorActivity<S extends z.ZodType, C>(parts: ConnectorParts<S, C>) {
  const { type } = parts;
  const { metrics } = parts.deps;
  return async (input: ConnectorInput): Promise<ConnectorResult> => {
    const { info, cancellationSignal, log } = Context.current();
    const attempt = info.attempt;
    const used: string[] = [];
    const timer = metrics?.stepSeconds.startTimer({ type });
    metrics?.stepAttempts.inc({ type });
    // Heartbeats carry a run's cancellation to a regular activity, and a dead worker's step is
    // retried sooner; a local activity hears of cancellation from its own worker.
    const heartbeats = info.isLocal ? undefined : setInterval(() => Context.current().heartbeat(), 1_000);
    // Not AbortSignal.timeout: held only by AbortSignal.any, Node 20 may garbage-collect it before
    // it fires, and a slow response would then outlive the step's timeout.
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(
      () => deadline.abort(new DOMException('the step timed out', 'TimeoutError')),
      info.startToCloseTimeoutMs,
    );
    try {
      const signal = AbortSignal.any([cancellationSignal, deadline.signal]);
      const output = await runConnector(parts, input, { signal, attempt, used });
      timer?.({ outcome: 'completed' });
      return { output, attempt };
    } catch (err) {
      if (cancellationSignal.aborted) throw new CancelledFailure('the step was cancelled');
      const failure = toFailure(err, attempt, used);
      await pauseKey(parts.deps.rates, input.rate?.key, err);
      timer?.({ outcome: 'failed' });
      metrics?.stepFailures.inc({ type, code: failure.type ?? 'UNKNOWN' });
      log.warn('step attempt failed', {
        runId: input.runId,
        workflowId: input.workflowId,
        stepId: input.stepId,
        tenant: input.tenantId,
        code: failure.type,
        attempt,
        retryable: !failure.nonRetryable,
      });
      throw failure;
    } finally {
      clearInterval(heartbeats);
      clearTimeout(deadlineTimer);
    }
  };
}

/**
 * Waits, briefly, until the step's rate-limit key lets one more request out. The workflow already
 * waited for the step's slot on a durable timer; this absorbs the moments between that slot and
 * the send, so the receiver never sees more than the limit in a window.
 */
async function admitted(rates: ConnectorDeps['rates'], rate: StepRate | undefined, signal: AbortSignal): Promise<void> {
  if (!rates || !rate) return;
  for (
    let waitMs = await rates.admit(rate.key, rate.count, rate.windowMs);
    waitMs > 0;
    waitMs = await rates.admit(rate.key, rate.count, rate.windowMs)
  ) {
    await pause(waitMs, signal);
  }
}

/** An upstream that asked to be left alone (Retry-After) is left alone by every run on the step's rate-limit key. */
async function pauseKey(rates: ConnectorDeps['rates'], key: string | undefined, err: unknown): Promise<void> {
  if (!rates || !key || !(err instanceof AppError) || !err.retryAfterMs) return;
  // The step fails as it would have; a store that is away only loses the shared pause.
  await rates.pause(key, Date.now() + err.retryAfterMs).catch(() => undefined);
}

/** An error as Temporal should see it: the stable code as type, retryable or not, Retry-After. */
export function toFailure(err: unknown, attempt: number, secrets: string[] = []): ApplicationFailure {
  if (err instanceof AppError) {
    return ApplicationFailure.create({
      type: err.code,
      message: redactText(err.message, secrets),
      nonRetryable: !err.retryable,
      details: [
        redact({ attempt, ...(typeof err.details === 'object' && err.details !== null ? err.details : {}) }, secrets),
      ],
      nextRetryDelay: err.retryAfterMs,
    });
  }
  const message = redactText(err instanceof Error ? err.message : String(err), secrets);
  return ApplicationFailure.create({ type: 'CONNECTOR_FAULT', message, nonRetryable: false, details: [{ attempt }] });
}

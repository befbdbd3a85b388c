import { randomUUID } from 'node:crypto';
import { isObject } from '../shared/json-values.js';
import { render } from '../definitions/expressions/templates.js';
import type { ExpressionLimits } from '../shared/run-limits.js';
import { toMillis } from '../definitions/duration.js';
import type { ConnectorStep, Step } from '../definitions/schema.js';
import { AppError } from '../shared/errors.js';
import { splitVerbatim } from './connector.js';
import type { ConnectorDeps } from './define-connector.js';
import type { RateStore } from './rate/store.js';
import { registry } from './registry.js';
import { admitStepTest, type TestAdmission, type TestAdmissionOptions } from './step-admission.js';
import { redact, redactText } from './secrets.js';

/** What testing a step answers: the rendered config (secret references shown as written) and the output or error. */
export interface StepTestResult {
  config?: unknown;
  output?: unknown;
  error?: { code: string; message: string; retryable: boolean };
}

/** The step test never waits longer than this, whatever the step's timeout. */
const MAX_TEST_MS = 60_000;

const placeholder = (nonce: string) => new RegExp(`\u001fsecret:${nonce}:([^\u001f]*)\u001f`, 'g');

/**
 * Renders a connector step's config against `context` and, unless `dryRun`, runs the connector
 * once, outside any run (like Step Functions' TestState). Secrets are resolved only for the run
 * and redacted from the output and any error; the rendered config shows `$secret('name')`.
 * @example await testStep(step, { trigger: { email: 'a@b.c' } }, { tenantId: 't', dryRun: true, deps, limits })
 */
export async function testStep(
  step: Step,
  context: unknown,
  opts: {
    tenantId: string;
    dryRun: boolean;
    deps: ConnectorDeps;
    limits: ExpressionLimits;
    /** The runs' rate-limit store: a test waits for its turn and slot as a run's step does; absent: no waiting. */
    rates?: RateStore;
  },
): Promise<StepTestResult> {
  const connector = registry.get(step.type);
  if (!connector || !('config' in step)) {
    throw new AppError({
      code: 'STEP_NOT_TESTABLE',
      message: `only connector steps can be tested (${registry.types.join(', ')}); '${step.type}' runs inside the workflow`,
      httpStatus: 400,
    });
  }
  const nonce = randomUUID();
  let config: unknown;
  const { template, verbatim } = splitVerbatim(step.config ?? {}, connector.defaults.verbatim);
  try {
    const rendered = await render(template, context, { limits: opts.limits, secretNonce: nonce });
    config = verbatim ? { ...(isObject(rendered) ? rendered : {}), ...verbatim } : rendered;
  } catch (err) {
    return { error: failure(err, []) };
  }
  const shown = showReferences(config, placeholder(nonce));
  if (opts.dryRun) return { config: shown };
  const used: string[] = [];
  const timeoutMs = Math.min(toMillis(step.timeout ?? connector.defaults.timeout), MAX_TEST_MS);
  const id = `test-${randomUUID()}`;
  // One deadline for the wait for a turn and the call itself: the caller waits on this request.
  const signal = AbortSignal.timeout(timeoutMs);
  let admission: TestAdmission | undefined;
  try {
    admission = await admit(step as ConnectorStep, context, { ...opts, holder: id, timeoutMs, signal });
    const input = {
      config,
      runId: id,
      workflowId: 'step-test',
      tenantId: opts.tenantId,
      stepId: step.id,
      idempotencyKey: `${id}:${step.id}`,
      secretNonce: nonce,
      ...('connection' in step && step.connection ? { connection: step.connection } : {}),
      ...(admission.rate ? { rate: admission.rate } : {}),
      ...(admission.slot ? { slot: admission.slot } : {}),
      ...(connector.defaults.context ? { context } : {}),
    };
    const output = await connector.attempt(opts.deps)(input, { signal, attempt: 1, used });
    return { config: shown, output };
  } catch (err) {
    return { config: shown, error: failure(err, used) };
  } finally {
    await admission?.release().catch(() => undefined);
  }
}

/** The step's turn and slot on the runs' store, when the process has one and a connection store to read limits from. */
function admit(
  step: ConnectorStep,
  context: unknown,
  opts: TestAdmissionOptions & { deps: ConnectorDeps; rates?: RateStore | undefined },
): Promise<TestAdmission> {
  const { rates, deps } = opts;
  if (!rates || !deps.connections) return Promise.resolve({ release: async () => undefined });
  return admitStepTest(step, context, { ...opts, store: rates, connections: deps.connections });
}

/** The rendered config with this render's secret references written back as `$secret('name')`. */
function showReferences(value: unknown, pattern: RegExp): unknown {
  if (typeof value === 'string') return value.replace(pattern, (_m, name: string) => `$secret('${name}')`);
  if (Array.isArray(value)) return value.map((v) => showReferences(v, pattern));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, showReferences(v, pattern)]));
  return value;
}

function failure(err: unknown, used: string[]): NonNullable<StepTestResult['error']> {
  if (err instanceof AppError)
    return { code: err.code, message: redactText(err.message, used), retryable: err.retryable };
  return redact(
    { code: 'CONNECTOR_FAULT', message: err instanceof Error ? err.message : String(err), retryable: true },
    used,
  );
}

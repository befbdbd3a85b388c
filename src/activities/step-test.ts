import { randomUUID } from 'node:crypto';
import { isObject, render } from '../definitions/expressions.js';
import type { ExpressionLimits } from '../definitions/limits.js';
import { toMillis } from '../definitions/duration.js';
import type { Step } from '../definitions/schema.js';
import { AppError } from '../shared/errors.js';
import { splitVerbatim } from './connector.js';
import type { ConnectorDeps } from './kit.js';
import { registry } from './registry.js';
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
  opts: { tenantId: string; dryRun: boolean; deps: ConnectorDeps; limits: ExpressionLimits },
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
  const input = {
    config,
    runId: id,
    workflowId: 'step-test',
    tenantId: opts.tenantId,
    stepId: step.id,
    idempotencyKey: `${id}:${step.id}`,
    secretNonce: nonce,
    ...('connection' in step && step.connection ? { connection: step.connection } : {}),
    ...(connector.defaults.context ? { context } : {}),
  };
  try {
    const output = await connector.attempt(opts.deps)(input, {
      signal: AbortSignal.timeout(timeoutMs),
      attempt: 1,
      used,
    });
    return { config: shown, output };
  } catch (err) {
    return { config: shown, error: failure(err, used) };
  }
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

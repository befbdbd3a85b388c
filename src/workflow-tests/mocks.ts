import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ConnectorInput, ConnectorResult } from '../activities/connector.js';
import type { ConnectorDeps } from '../activities/define-connector.js';
import { registry } from '../activities/registry.js';
import type { AttemptMock, Mock } from './spec.js';

/** The mocks of the run going on, by run id (the Temporal workflow id), each step's by step id. */
export type MocksByRun = Map<string, Record<string, Mock>>;

/** Connector steps that run for real when a test gives no mock: pure computation, no I/O. */
const REAL_BY_DEFAULT = new Set(['code']);

/**
 * Problems of a case's mocks found before it runs: a mock for a step the definition does not have,
 * or an output the step type's output schema refuses (where it has one).
 */
export function checkMocks(mocks: Record<string, Mock>, stepTypes: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [stepId, mock] of Object.entries(mocks)) {
    const type = stepTypes.get(stepId);
    if (!type) {
      problems.push(`mocks.${stepId}: the definition has no step '${stepId}'`);
      continue;
    }
    const schema = registry.get(type)?.outputSchema;
    if (!registry.get(type))
      problems.push(`mocks.${stepId}: step '${stepId}' is a ${type} step, which runs in the engine`);
    if (mock === 'real' || !schema) continue;
    for (const [i, attempt] of (Array.isArray(mock) ? mock : [mock]).entries()) {
      if (!('output' in attempt)) continue;
      const parsed = schema.safeParse(attempt.output);
      if (!parsed.success)
        problems.push(
          `mocks.${stepId}${Array.isArray(mock) ? `[${i}]` : ''}.output is not what a ${type} step returns: ${parsed.error.issues
            .map((issue) => `${issue.path.join('.') || '(output)'}: ${issue.message}`)
            .join('; ')}`,
        );
    }
  }
  return problems;
}

/** The result of attempt `n` (1-based): the n-th of a list, the last one repeating. */
function attemptOf(mock: Exclude<Mock, 'real'>, n: number): AttemptMock {
  if (!Array.isArray(mock)) return mock;
  return mock[Math.min(n, mock.length) - 1] ?? { output: null };
}

/**
 * One activity per connector step type, each answering from the run's mocks: an output (filled in
 * by the type's output schema), an error (type = code, retried unless `retryable: false`), or the
 * real connector for `real`. A step with no mock fails with MOCK_MISSING, never retried.
 */
export function mockActivities(
  mocks: MocksByRun,
  deps: ConnectorDeps,
): Record<string, (input: ConnectorInput) => Promise<ConnectorResult>> {
  const activities: Record<string, (input: ConnectorInput) => Promise<ConnectorResult>> = {};
  for (const type of registry.types) {
    const connector = registry.get(type);
    if (!connector) continue;
    const real = connector.activity(deps);
    activities[type] = async (input) => {
      const attempt = Context.current().info.attempt;
      const mock = mocks.get(input.runId)?.[input.stepId] ?? (REAL_BY_DEFAULT.has(type) ? 'real' : undefined);
      if (mock === 'real') return real(input);
      if (mock === undefined)
        throw ApplicationFailure.create({
          type: 'MOCK_MISSING',
          message: `step '${input.stepId}' has no mock: give mocks.${input.stepId} an {output}, an {error: {code}} or 'real'`,
          nonRetryable: true,
        });
      const result = attemptOf(mock, attempt);
      if ('error' in result)
        throw ApplicationFailure.create({
          type: result.error.code,
          message: result.error.message ?? `mocked ${result.error.code}`,
          nonRetryable: result.error.retryable === false,
          // As a real connector's failure: it says which attempt it was.
          details: [{ attempt }],
        });
      const parsed = connector.outputSchema?.safeParse(result.output);
      return { output: parsed?.success ? parsed.data : result.output, attempt };
    };
  }
  return activities;
}

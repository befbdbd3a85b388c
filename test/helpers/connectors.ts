import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ConnectorInput, ConnectorResult } from '../../src/activities/connector.js';
import type { Connector } from '../../src/activities/define-connector.js';
import type { Reserved } from '../../src/activities/reserved.js';
import { connectionNotFound } from '../../src/db/connections-repo.js';
import type { RateLimit } from '../../src/definitions/schema.js';

const quiet = new DefaultLogger('ERROR', () => undefined);

/**
 * Runs a connector's real activity (the Temporal activity boundary included) in a mock activity
 * context, with connections and secrets kept in memory for the tenant `t`.
 */
export function connectorRunner(
  connector: Connector,
  opts: {
    allowlist?: string;
    /** The engine's own services, out of the connector's reach. */
    reserved?: Reserved;
    connections?: Record<string, { type: string; config: Record<string, unknown>; rateLimit?: RateLimit }>;
    secrets?: Record<string, string>;
  } = {},
) {
  const activity = connector.activity({
    allowlist: opts.allowlist ?? '127.0.0.1',
    reserved: opts.reserved,
    secrets: { reveal: async (_tenant, name) => opts.secrets?.[name] ?? '' },
    connections: {
      get: async (_tenant, name) => {
        const c = opts.connections?.[name];
        if (!c) throw connectionNotFound(name);
        return { name, rateLimit: null, ...c, createdAt: new Date(), updatedAt: new Date() };
      },
    },
  });
  return (
    config: unknown,
    more: { connection?: string; attempt?: number; timeoutMs?: number } = {},
  ): Promise<ConnectorResult> => {
    const input: ConnectorInput = {
      config,
      runId: 'run-1',
      workflowId: 'wf-1',
      tenantId: 't',
      stepId: 'step',
      idempotencyKey: 'run-1:step',
      ...(more.connection ? { connection: more.connection } : {}),
    };
    return new MockActivityEnvironment(
      { attempt: more.attempt ?? 1, startToCloseTimeoutMs: more.timeoutMs ?? 5_000 },
      { logger: quiet },
    ).run<[ConnectorInput], ConnectorResult, typeof activity>(activity, input);
  };
}

/** The ApplicationFailure a step attempt failed with. */
export async function failureOf(attempt: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await attempt;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the step to fail');
}

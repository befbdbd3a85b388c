import assert from 'node:assert/strict';
import type { Stack } from './stack.js';
import { waitFor } from './ports.js';

/** Saves a definition through the API and returns its id. */
export async function createWorkflow(stack: Stack, definition: unknown): Promise<string> {
  const res = await stack.call('POST', '/v1/workflows', definition);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

/** Triggers a run through the API and returns its id. */
export async function trigger(
  stack: Stack,
  workflowId: string,
  payload: unknown = {},
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await stack.call('POST', `/v1/workflows/${workflowId}/runs`, payload, headers);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.runId;
}

/** Polls `GET /v1/runs/{id}` until the run has ended; returns the run as the API shows it. */
export function waitForEnd(stack: Stack, runId: string, timeoutMs = 30_000) {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const res = await stack.call('GET', `/v1/runs/${runId}`);
      return ['completed', 'failed', 'cancelled', 'timed_out', 'terminated'].includes(res.body?.status)
        ? res.body
        : undefined;
    },
    timeoutMs,
  );
}

/** Polls until the run reports `status`. */
export function waitForStatus(stack: Stack, runId: string, status: string, timeoutMs = 30_000) {
  return waitFor(
    `run ${runId} to be ${status}`,
    async () => {
      const res = await stack.call('GET', `/v1/runs/${runId}`);
      return res.body?.status === status ? res.body : undefined;
    },
    timeoutMs,
  );
}

import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { Offer } from '../../src/workflows/event-messages.js';

/** Anything that calls the API as the tests' stacks and clusters do. */
type Caller = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body?: { eventId?: unknown } }>;

/** Posts an event by key and expects the 202. */
export async function postEvent(
  call: Caller,
  event: { name: string; key: string; payload?: unknown; id?: string },
): Promise<string> {
  const res = await call('POST', '/v1/events', event);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(typeof res.body?.eventId, 'string');
  return String(res.body?.eventId);
}

/**
 * The events offered to a workflow execution by correlation workflows, read from its Temporal
 * history (every execution of it) and decoded with the client's data converter: what it received.
 */
export async function offersTo(client: Client, workflowId: string): Promise<Offer[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const offers: Offer[] = [];
  for (const e of history.events ?? []) {
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== 'keyedEvent') continue;
    offers.push(await decodeFromPayloadsAtIndex<Offer>(client.options.loadedDataConverter, 0, signal.input?.payloads));
  }
  return offers;
}

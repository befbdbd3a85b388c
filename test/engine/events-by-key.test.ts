import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { offersTo, postEvent } from '../helpers/events.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

/**
 * Events by key on the real stack (Temporal dev server, PostgreSQL, the worker in process): each
 * waiting step receives the event posted under its key once, whether it was posted before or after
 * the wait began, and never another key's. "Once" is counted in each run's Temporal history.
 */
describe('events by key (real Temporal, real PostgreSQL)', () => {
  const suite = useStack();
  const call = (method: string, path: string, body?: unknown) => suite.stack.call(method, path, body);
  /** A fresh key per test, so tests never share a correlation workflow. */
  const fresh = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

  const waitOnOrder = (timeout?: string) =>
    createWorkflow(suite.stack, {
      name: `wait-${randomUUID().slice(0, 6)}`,
      steps: [
        {
          id: 'paid',
          type: 'wait_for_event',
          config: { name: 'payment.received', key: '{{ trigger.order }}', ...(timeout ? { timeout } : {}) },
          ...(timeout ? { onTimeout: 'late' } : {}),
        },
        { id: 'done', type: 'succeed', config: { output: '{{ steps.paid.output }}' } },
        ...(timeout ? [{ id: 'late', type: 'succeed', config: { output: { late: true } } }] : []),
      ],
    });

  /** The ids of the events a run took, from its history: each offer it received. */
  const received = async (runId: string) => (await offersTo(suite.stack.client, runId)).map((o) => o.eventId);

  it('an event posted before the wait begins is kept and taken when it does', async () => {
    const wf = await waitOnOrder();
    const order = fresh('order');
    const eventId = await postEvent(call, { name: 'payment.received', key: order, payload: { amount: 42 } });
    const runId = await trigger(suite.stack, wf, { order });
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.deepEqual(run.result, { amount: 42 });
    assert.deepEqual(await received(runId), [eventId]);
  });

  it('an event posted while the step waits reaches it', async () => {
    const wf = await waitOnOrder();
    const order = fresh('order');
    const runId = await trigger(suite.stack, wf, { order });
    await waitForStatus(suite.stack, runId, 'waiting');
    const eventId = await postEvent(call, { name: 'payment.received', key: order, payload: { amount: 7 } });
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.deepEqual(run.result, { amount: 7 });
    assert.deepEqual(await received(runId), [eventId]);
  });

  it('an event posted twice with the same id is kept once: the next run on the key takes the next event', async () => {
    const wf = await waitOnOrder();
    const order = fresh('order');
    const body = { name: 'payment.received', key: order, payload: { n: 1 }, id: `evt-${order}` };
    assert.equal(await postEvent(call, body), body.id);
    assert.equal(await postEvent(call, body), body.id);
    await postEvent(call, { name: 'payment.received', key: order, payload: { n: 2 }, id: `evt2-${order}` });
    const first = await trigger(suite.stack, wf, { order });
    assert.deepEqual((await waitForEnd(suite.stack, first)).result, { n: 1 });
    const second = await trigger(suite.stack, wf, { order });
    assert.deepEqual((await waitForEnd(suite.stack, second)).result, { n: 2 });
    assert.deepEqual(await received(first), [body.id]);
    assert.deepEqual(await received(second), [`evt2-${order}`]);
  });

  it('two runs on two keys each receive their own event, never the other', async () => {
    const wf = await waitOnOrder();
    const [a, b] = [fresh('a'), fresh('b')];
    const runA = await trigger(suite.stack, wf, { order: a });
    const runB = await trigger(suite.stack, wf, { order: b });
    await waitForStatus(suite.stack, runA, 'waiting');
    await waitForStatus(suite.stack, runB, 'waiting');
    const eb = await postEvent(call, { name: 'payment.received', key: b, payload: { for: 'b' } });
    const ea = await postEvent(call, { name: 'payment.received', key: a, payload: { for: 'a' } });
    assert.deepEqual((await waitForEnd(suite.stack, runA)).result, { for: 'a' });
    assert.deepEqual((await waitForEnd(suite.stack, runB)).result, { for: 'b' });
    assert.deepEqual(await received(runA), [ea]);
    assert.deepEqual(await received(runB), [eb]);
  });

  it('two runs waiting on one key both receive its event, once each', async () => {
    const wf = await waitOnOrder();
    const order = fresh('shared');
    const runs = [await trigger(suite.stack, wf, { order }), await trigger(suite.stack, wf, { order })];
    // Both waits registered: the correlation workflow lists both waiters.
    await waitForWaiters(order, 2);
    const eventId = await postEvent(call, { name: 'payment.received', key: order, payload: { both: true } });
    for (const runId of runs) {
      const run = await waitForEnd(suite.stack, runId);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, { both: true });
      assert.deepEqual(await received(runId), [eventId]);
    }
  });

  it('anyOf waits for the first of several events by key, and says which arrived', async () => {
    const wf = await createWorkflow(suite.stack, {
      name: 'any-of',
      steps: [
        { id: 'outcome', type: 'wait_for_event', config: { anyOf: ['paid', 'cancelled'], key: '{{ trigger.order }}' } },
      ],
    });
    const order = fresh('any');
    const runId = await trigger(suite.stack, wf, { order });
    await waitForStatus(suite.stack, runId, 'waiting');
    await postEvent(call, { name: 'cancelled', key: order, payload: { reason: 'changed mind' } });
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.deepEqual(run.result, { name: 'cancelled', payload: { reason: 'changed mind' } });
    // The other name's key forgot the wait: a later 'paid' is kept for the next step that waits.
    const later = await postEvent(call, { name: 'paid', key: order, payload: { amount: 1 } });
    const next = await trigger(suite.stack, wf, { order });
    assert.deepEqual((await waitForEnd(suite.stack, next)).result, { name: 'paid', payload: { amount: 1 } });
    assert.deepEqual(await received(next), [later]);
  });

  it('anyOf without a key takes the first of several events posted to the run', async () => {
    const wf = await createWorkflow(suite.stack, {
      name: 'any-of-run',
      steps: [{ id: 'outcome', type: 'wait_for_event', config: { anyOf: ['yes', 'no'] } }],
    });
    const runId = await trigger(suite.stack, wf, {});
    await waitForStatus(suite.stack, runId, 'waiting');
    assert.equal((await call('POST', `/v1/runs/${runId}/events/no`, { why: 'busy' })).status, 202);
    assert.deepEqual((await waitForEnd(suite.stack, runId)).result, { name: 'no', payload: { why: 'busy' } });
  });

  it('cancelOn cancels the run wherever it is when its event arrives, and only the run of that key', async () => {
    const wf = await createWorkflow(suite.stack, {
      name: 'cancellable',
      cancelOn: [{ name: 'order.cancelled', key: '{{ trigger.order }}' }],
      steps: [
        { id: 'nap', type: 'delay', config: { duration: '1h' } },
        { id: 'done', type: 'succeed' },
      ],
    });
    const [mine, other] = [fresh('c'), fresh('c')];
    const runId = await trigger(suite.stack, wf, { order: mine });
    const otherRun = await trigger(suite.stack, wf, { order: other });
    await waitForStatus(suite.stack, runId, 'waiting');
    await waitForStatus(suite.stack, otherRun, 'waiting');
    await waitForWaiters(mine, 1, 'order.cancelled');
    const eventId = await postEvent(call, { name: 'order.cancelled', key: mine });
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'cancelled');
    assert.equal(run.error?.code, 'CANCELLED_BY_EVENT');
    assert.deepEqual(await received(runId), [eventId]);
    assert.equal((await call('GET', `/v1/runs/${otherRun}`)).body.status, 'waiting');
    assert.equal((await call('POST', `/v1/runs/${otherRun}/cancel`)).status, 202);
  });

  it('a wait that times out leaves its key: the event posted after is kept for the next wait', async () => {
    const wf = await waitOnOrder('1s');
    const order = fresh('slow');
    const first = await trigger(suite.stack, wf, { order });
    assert.deepEqual((await waitForEnd(suite.stack, first)).result, { late: true });
    const eventId = await postEvent(call, { name: 'payment.received', key: order, payload: { at: 'last' } });
    const second = await trigger(suite.stack, wf, { order });
    assert.deepEqual((await waitForEnd(suite.stack, second)).result, { at: 'last' });
    assert.deepEqual(await received(first), []);
    assert.deepEqual(await received(second), [eventId]);
  });

  it('a key a template renders invalid fails the step with INVALID_EVENT_KEY', async () => {
    const wf = await waitOnOrder();
    const runId = await trigger(suite.stack, wf, { order: 'has space' });
    const run = await waitForEnd(suite.stack, runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.code, 'INVALID_EVENT_KEY');
  });

  /** Waits until the correlation workflow of (default tenant, name, key) holds `count` waiters. */
  async function waitForWaiters(key: string, count: number, name = 'payment.received'): Promise<void> {
    const { eventKeyId } = await import('../../src/workflows/event-messages.js');
    const id = eventKeyId('default', name, key);
    const deadline = Date.now() + 30_000;
    for (let i = 0; i < 300 && Date.now() < deadline; i++) {
      const waiters = await subscriptions(id).catch(() => 0);
      if (waiters >= count) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the key ${key} never held ${count} waiters`);
  }

  /** The number of waits registered in a correlation workflow's history (subscribe signals). */
  async function subscriptions(workflowId: string): Promise<number> {
    const history = await suite.stack.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'subscribe')
      .length;
  }
});

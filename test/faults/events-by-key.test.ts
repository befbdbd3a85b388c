import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { offersTo } from '../helpers/events.js';
import { waitFor } from '../helpers/ports.js';
import { eventKeyId } from '../../src/workflows/event-messages.js';
import { api, report, useCluster, waitForRuns, type Cluster } from './cluster.js';

/**
 * Events by key when processes die between `POST /v1/events` answering 202 and the event reaching
 * its waiting step: every run still receives its own event, exactly once. "Once" is counted in each
 * run's Temporal history (the offers it received, decoded), not inferred from its output.
 */
describe('faults: events by key across SIGKILL of the worker and of the API', () => {
  const suite = useCluster();
  const cluster = (): Cluster => suite.cluster;

  async function waitingWorkflow(): Promise<string> {
    const wf = await api(cluster(), 'POST', '/v1/workflows', {
      name: `events-${randomUUID().slice(0, 6)}`,
      steps: [
        { id: 'paid', type: 'wait_for_event', config: { name: 'paid', key: '{{ trigger.order }}' } },
        { id: 'done', type: 'succeed', config: { output: '{{ steps.paid.output }}' } },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    return wf.body.id;
  }

  async function start(wf: string, order: string): Promise<string> {
    const res = await api(cluster(), 'POST', `/v1/workflows/${wf}/runs`, { order });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.runId;
  }

  /** Until the key's correlation workflow has registered a wait (its `subscribe` signal is in history). */
  async function registered(order: string): Promise<void> {
    await waitFor(
      `a wait on ${order}`,
      async () => {
        const history = await cluster()
          .client.workflow.getHandle(eventKeyId('default', 'paid', order))
          .fetchHistory()
          .catch(() => undefined);
        const subscribed = (history?.events ?? []).some(
          (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'subscribe',
        );
        return subscribed ? true : undefined;
      },
      60_000,
    );
  }

  const post = (order: string, id: string) =>
    api(cluster(), 'POST', '/v1/events', { name: 'paid', key: order, id, payload: { order, id } });

  /** Every run completed with its own event's payload, and its history holds exactly that one offer. */
  async function assertEachOnce(runs: { runId: string; order: string; id: string }[]) {
    const ended = await waitForRuns(
      cluster(),
      runs.map((r) => r.runId),
    );
    let offers = 0;
    for (const [i, { runId, order, id }] of runs.entries()) {
      assert.equal(ended[i]?.status, 'completed', `${runId}: ${JSON.stringify(ended[i]?.error)}`);
      assert.deepEqual(ended[i]?.result, { order, id });
      const received = (await offersTo(cluster().client, runId)).map((o) => o.eventId);
      assert.deepEqual(received, [id], `run ${runId} received ${JSON.stringify(received)}`);
      offers += received.length;
    }
    return offers;
  }

  it('SIGKILL of the worker right after 202s and while it is down: every waiting run receives its event once', async () => {
    const wf = await waitingWorkflow();
    const tag = randomUUID().slice(0, 6);
    const runs: { runId: string; order: string; id: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const order = `w-${tag}-${i}`;
      runs.push({ runId: await start(wf, order), order, id: `evt-${order}` });
    }
    for (const r of runs) await registered(r.order);
    // Half posted with the worker up, the worker killed at once (deliveries in flight), half while it is down.
    for (const r of runs.slice(0, 4)) assert.equal((await post(r.order, r.id)).status, 202);
    await cluster().kill('worker');
    for (const r of runs.slice(4)) assert.equal((await post(r.order, r.id)).status, 202);
    // And events posted before their runs exist, while the worker is down.
    const early = ['e0', 'e1'].map((n) => ({ order: `w-${tag}-${n}`, id: `evt-w-${tag}-${n}` }));
    for (const e of early) assert.equal((await post(e.order, e.id)).status, 202);
    await cluster().start('worker');
    for (const e of early) runs.push({ ...e, runId: await start(wf, e.order) });
    const offers = await assertEachOnce(runs);
    report('events by key, worker SIGKILL', { runs: runs.length, events: runs.length, offers });
  });

  it('SIGKILL of the API amid posts, clients retrying with the same ids: every run receives its event once', async () => {
    const wf = await waitingWorkflow();
    const tag = randomUUID().slice(0, 6);
    const runs: { runId: string; order: string; id: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const order = `a-${tag}-${i}`;
      runs.push({ runId: await start(wf, order), order, id: `evt-${order}` });
    }
    for (const r of runs) await registered(r.order);
    // With the worker down nothing is delivered before the API dies: the 202s are all there is.
    await cluster().kill('worker');
    const answers = new Map<string, number>();
    const posting = runs.map(async (r) => answers.set(r.id, (await post(r.order, r.id)).status));
    await waitFor('three events accepted', async () =>
      [...answers.values()].filter((s) => s === 202).length >= 3 ? true : undefined,
    );
    await cluster().kill('api');
    await Promise.all(posting);
    const accepted = [...answers.values()].filter((s) => s === 202).length;
    await cluster().start('api');
    // A client retries every post it is unsure of, and some it is sure of: the ids make them one event each.
    for (const r of runs) assert.equal((await post(r.order, r.id)).status, 202);
    await cluster().start('worker');
    const offers = await assertEachOnce(runs);
    report('events by key, API SIGKILL', {
      runs: runs.length,
      acceptedBeforeKill: accepted,
      reposted: runs.length,
      offers,
    });
  });
});

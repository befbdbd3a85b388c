// Events by key at scale: N runs each wait on their own key, then N events are posted through the
// API process, one per key; every run must complete with its own event, received once. Measures the
// rate of delivery and the time from each post's 202 to the waiting step's completion, beside the
// empty-workflow rate on the same server in the same run. BENCH_EVENTS sets N (default 10,000).
import { availableParallelism, loadavg } from 'node:os';
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { Definition } from '../src/definitions/schema.js';
import type { Offer } from '../src/workflows/event-messages.js';
import type { RunInput } from '../src/workflows/run-model.js';
import { stampRun } from '../src/workflows/revisions.js';
import { waitFor } from '../test/helpers/ports.js';
import { percentiles, throughput, writeResults } from './harness.js';
import { type ApiProcess, TASK_QUEUE } from './stack.js';

const IN_FLIGHT = 50;

export async function eventsBench(deps: { client: Client; api: ApiProcess; count: number }): Promise<void> {
  const { client, api, count } = deps;
  const tag = Date.now().toString(36);
  const orderOf = (i: number) => `order-${tag}-${i}`;
  const runIdOf = (i: number) => `events-${tag}-${i}`;

  // The machine's load over the whole run: figures taken on a busy machine say so.
  const loads: number[] = [];
  const sampler = setInterval(() => loads.push(loadavg()[0] ?? 0), 5000);
  // The floor: empty workflows on the same server, just before.
  const empty = await throughput(Math.min(count, 500), IN_FLIGHT, (i) =>
    client.workflow.execute('emptyWorkflow', { taskQueue: TASK_QUEUE, workflowId: `empty-${tag}-${i}` }),
  );

  // The step's completion time is the workflow time of the task that runs the step after it.
  const definition: Definition = {
    name: 'bench: wait on a key',
    steps: [
      { id: 'paid', type: 'wait_for_event', config: { name: 'paid', key: '{{ trigger.order }}' } },
      { id: 'done', type: 'transform', config: { expression: '{ "event": steps.paid.output, "at": $millis() }' } },
    ],
  };
  const input = (i: number): RunInput => ({
    ...stampRun(undefined),
    tenantId: 'bench',
    workflowId: 'bench-events',
    version: 1,
    definition,
    trigger: { order: orderOf(i) },
  });
  const started = await throughput(count, IN_FLIGHT, (i) =>
    client.workflow.start('interpreter', { taskQueue: TASK_QUEUE, workflowId: runIdOf(i), args: [input(i)] }),
  );
  // Every wait registered: one correlation workflow per key is running.
  const registeredAfter = performance.now();
  await waitFor(
    `${count} waits registered`,
    async () => {
      const { count: running } = await client.workflow.count(
        `WorkflowType = 'eventKey' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH 'event:5:bench:paid:order-${tag}-'`,
      );
      return running >= count ? true : undefined;
    },
    30 * 60_000,
  );
  const registrationSeconds = (performance.now() - registeredAfter) / 1000;

  const accepted = new Map<number, number>();
  const firstPost = Date.now();
  const posted = await throughput(count, IN_FLIGHT, async (i) => {
    const order = orderOf(i);
    await api.call(
      'POST',
      '/v1/events',
      JSON.stringify({ name: 'paid', key: order, id: `evt-${order}`, payload: { order } }),
    );
    accepted.set(i, Date.now());
  });

  const latencies: number[] = [];
  let lastAt = 0;
  let wrong = 0;
  let offers = 0;
  await throughput(count, IN_FLIGHT, async (i) => {
    const handle = client.workflow.getHandle(runIdOf(i));
    const { output } = (await handle.result()) as { output: { event: { order: string }; at: number } };
    if (output.event.order !== orderOf(i)) wrong += 1;
    latencies.push(output.at - (accepted.get(i) ?? output.at));
    lastAt = Math.max(lastAt, output.at);
    // Once: the run's history holds exactly one offer, of its own event.
    const history = await handle.fetchHistory();
    for (const e of history.events ?? []) {
      const signal = e.workflowExecutionSignaledEventAttributes;
      if (signal?.signalName !== 'keyedEvent') continue;
      const offer = await decodeFromPayloadsAtIndex<Offer>(
        client.options.loadedDataConverter,
        0,
        signal.input?.payloads,
      );
      offers += 1;
      if (offer.eventId !== `evt-${orderOf(i)}`) wrong += 1;
    }
  });
  clearInterval(sampler);
  if (wrong > 0 || offers !== count)
    throw new Error(`${wrong} runs got another event; ${offers} offers for ${count} runs`);

  const deliverySeconds = (lastAt - firstPost) / 1000;
  const data = {
    runs: count,
    inFlight: IN_FLIGHT,
    emptyWorkflow: { runs: empty.runs, perSecond: empty.perSecond },
    waitingRunsStartedPerSecond: started.perSecond,
    registrationSeconds: Math.round(registrationSeconds * 10) / 10,
    eventsPostedPerSecond: posted.perSecond,
    eventsDeliveredPerSecond: Math.round((count / deliverySeconds) * 10) / 10,
    postLatencyMs: posted.latencyMs,
    acceptedToStepDoneMs: percentiles(latencies),
    offersPerRun: offers / count,
    meanLoadAverage: Math.round((loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)) * 10) / 10,
    cpus: availableParallelism(),
  };
  await writeResults(
    'events',
    data,
    [
      `## Events by key (${count} runs waiting, each on its own key; ${count} events posted through the API process, ${IN_FLIGHT} in flight)`,
      '',
      '| figure | value |',
      '|---|---|',
      `| empty workflow (server floor), runs/s | ${data.emptyWorkflow.perSecond} |`,
      `| waiting runs started, runs/s | ${data.waitingRunsStartedPerSecond} |`,
      `| events accepted (\`202\`), events/s | ${data.eventsPostedPerSecond} |`,
      `| events delivered (first post to last step done), events/s | ${data.eventsDeliveredPerSecond} |`,
      `| \`202\` → step done, p50 / p95 / p99 ms | ${data.acceptedToStepDoneMs.p50} / ${data.acceptedToStepDoneMs.p95} / ${data.acceptedToStepDoneMs.p99} |`,
      `| \`POST /v1/events\` round trip, p50 / p99 ms | ${data.postLatencyMs.p50} / ${data.postLatencyMs.p99} |`,
      `| offers per run (each its own event, checked in every run's history) | ${data.offersPerRun} |`,
      '',
      `Each run waited on its own key before its event was posted (${count} correlation workflows running, ${data.registrationSeconds} s after the last start). "Step done" is the workflow time of the task that ran the step after the wait, against the bench client's clock at the \`202\` (one machine). A delivery is a signal to the key's correlation workflow, an offer signal to the run and the run's answer: read it against the empty workflow's rate, one start and one completion. Mean 1-minute load average over the run: ${data.meanLoadAverage} on ${data.cpus} CPUs.`,
    ].join('\n'),
  );
}

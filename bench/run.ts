// `npm run bench [-- interpreter trigger fanout parked scaleout]`: each benchmark starts what it
// needs, measures against a baseline in the same run, is bounded in count and time, and writes
// JSON and a markdown table to bench/results/. Never part of `npm test`.
import { once } from 'node:events';
import { serve } from '@hono/node-server';
import { createApp } from '../src/api/app.js';
import { createRepos } from '../src/db/repos.js';
import type { Definition } from '../src/definitions/schema.js';
import { loadConfig } from '../src/shared/config.js';
import { createMetrics } from '../src/shared/metrics.js';
import type { RunInput } from '../src/workflows/messages.js';
import { startReceiver } from '../test/helpers/receiver.js';
import { logger, percentiles, startInfra, startWorker, startWorkerProcess, TASK_QUEUE, throughput, writeResults } from './harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const IN_FLIGHT = 50;
const chosen = process.argv.slice(2);
const wanted = (name: string) => chosen.length === 0 || chosen.includes(name);

const infra = await startInfra();
const receiver = await startReceiver();
const worker = await startWorker(infra);
const config = loadConfig({ TEMPORAL_TASK_QUEUE: TASK_QUEUE, DATABASE_URL: infra.databaseUrl, LOG_LEVEL: 'warn', AUTH_MODE: 'off' });
const repos = createRepos(infra.pool);
const app = createApp({ config, pool: infra.pool, temporal: infra.client, ...repos, logger, metrics: createMetrics() });
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
await once(server, 'listening');
const address = server.address();
const apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
const url = `${receiver.url}/bench`;

const threeSteps: Definition = {
  name: 'bench: transform → http → transform',
  steps: [
    { id: 'before', type: 'transform', config: { expression: '{ "n": trigger.n * 2 }' } },
    { id: 'call', type: 'http', config: { method: 'POST', url, body: '{{ steps.before.output }}' } },
    { id: 'after', type: 'transform', config: { expression: '{ "status": steps.call.output.status, "n": trigger.n }' } },
  ],
};
const triggerHttpTransform: Definition = {
  name: 'bench: trigger → http → transform',
  steps: [
    { id: 'call', type: 'http', config: { method: 'POST', url, body: { n: '{{ trigger.n }}' } } },
    { id: 'after', type: 'transform', config: { expression: 'steps.call.output.status' } },
  ],
};

async function createWorkflow(definition: Definition): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/workflows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(definition) });
  return ((await res.json()) as { id: string }).id;
}

async function triggerAndWait(workflowId: string, n: number): Promise<unknown> {
  const res = await fetch(`${apiUrl}/v1/workflows/${workflowId}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
  const { runId } = (await res.json()) as { runId: string };
  return infra.client.workflow.getHandle(runId).result();
}

const input = (definition: Definition, n: number): RunInput => ({ tenantId: 'bench', workflowId: 'bench', version: 1, definition, trigger: { n } });
let seq = 0;
const id = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;

async function interpreterBench(): Promise<void> {
  await throughput(30, 10, () => infra.client.workflow.execute('emptyWorkflow', { taskQueue: TASK_QUEUE, workflowId: id('warm') }));
  const empty = await throughput(RUNS, IN_FLIGHT, () => infra.client.workflow.execute('emptyWorkflow', { taskQueue: TASK_QUEUE, workflowId: id('empty') }));
  const hand = await throughput(RUNS, IN_FLIGHT, (i) => infra.client.workflow.execute('handWritten', { taskQueue: TASK_QUEUE, workflowId: id('hand'), args: [url, i] }));
  const json = await throughput(RUNS, IN_FLIGHT, (i) => infra.client.workflow.execute('interpreter', { taskQueue: TASK_QUEUE, workflowId: id('json'), args: [input(threeSteps, i)] }));
  const barId = await createWorkflow(triggerHttpTransform);
  const bar = await throughput(RUNS, IN_FLIGHT, (i) => triggerAndWait(barId, i));
  const data = { runsEach: RUNS, inFlight: IN_FLIGHT, empty, handWritten: hand, json3Steps: json, apiTriggerHttpTransform: bar, ratios: { jsonVsHandWritten: round(json.perSecond / hand.perSecond), apiTriggerHttpTransformVsEmpty: round(bar.perSecond / empty.perSecond) } };
  await writeResults('interpreter', data, [
    `## Interpreter overhead (${RUNS} runs each, ${IN_FLIGHT} in flight, one worker, file-backed dev server)`,
    '',
    '| workflow | runs/s | p50 ms | p95 ms | p99 ms |',
    '|---|---|---|---|---|',
    row('empty workflow (server floor)', empty),
    row('hand-written transform → http → transform', hand),
    row('JSON transform → http → transform (client start)', json),
    row('JSON trigger → http → transform (through the API)', bar),
    '',
    `JSON / hand-written: **${data.ratios.jsonVsHandWritten}×**; API trigger → http → transform / empty workflow: **${data.ratios.apiTriggerHttpTransformVsEmpty}×**.`,
  ].join('\n'));
}

async function triggerBench(): Promise<void> {
  const definition: Definition = { name: 'bench: trigger latency', steps: [{ id: 'noop', type: 'transform', config: { expression: '1' } }] };
  const workflowId = await createWorkflow(definition);
  const rate = 20;
  const amount = 200;
  // Alternating, at a fixed rate, so both paths see the same server and worker load.
  const bare: number[] = [];
  const api: number[] = [];
  for (let i = 0; i < amount; i++) {
    const t0 = performance.now();
    await infra.client.workflow.start('interpreter', { taskQueue: TASK_QUEUE, workflowId: id('bare'), args: [input(definition, i)] });
    const t1 = performance.now();
    const res = await fetch(`${apiUrl}/v1/workflows/${workflowId}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    await res.arrayBuffer();
    const t2 = performance.now();
    bare.push(t1 - t0);
    api.push(t2 - t1);
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 / rate - (t2 - t0))));
  }
  const bareP = percentiles(bare);
  const apiP = percentiles(api);
  const data = { rate, amount, bareStart: bareP, apiTrigger: apiP, addedP50Ms: round(apiP.p50 - bareP.p50) };
  await writeResults('trigger', data, [
    `## Trigger latency (${amount} of each, alternating, ${rate}/s in all)`,
    '',
    '| path | p50 ms | p95 ms | p99 ms |',
    '|---|---|---|---|',
    `| bare \`client.workflow.start\` | ${bareP.p50} | ${bareP.p95} | ${bareP.p99} |`,
    `| \`POST /v1/workflows/{id}/runs\` over HTTP | ${apiP.p50} | ${apiP.p95} | ${apiP.p99} |`,
    '',
    `The API adds **${data.addedP50Ms} ms** at p50: it reads the definition, starts the run and inserts its index row.`,
  ].join('\n'));
}

async function historyOf(workflowId: string): Promise<{ events: number; bytes: number }> {
  const history = await infra.client.workflow.getHandle(workflowId).fetchHistory();
  return { events: history.events?.length ?? 0, bytes: JSON.stringify(history).length };
}

async function fanoutBench(): Promise<void> {
  const branches = Array.from({ length: 100 }, (_, i) => [{ id: `b${i}`, type: 'http' as const, config: { method: 'POST', url, body: { i } } }]);
  const parallelId = id('parallel');
  let t = performance.now();
  await infra.client.workflow.execute('interpreter', { taskQueue: TASK_QUEUE, workflowId: parallelId, args: [input({ name: 'fan-out', steps: [{ id: 'fan', type: 'parallel', branches }] }, 0)] });
  const parallel = { seconds: round((performance.now() - t) / 1000), ...(await historyOf(parallelId)) };
  const foreachId = id('foreach');
  t = performance.now();
  await infra.client.workflow.execute('interpreter', {
    taskQueue: TASK_QUEUE,
    workflowId: foreachId,
    args: [input({ name: 'foreach', steps: [{ id: 'each', type: 'foreach', items: '[1..10000]', concurrency: 50, steps: [{ id: 'double', type: 'transform', config: { expression: 'item * 2' } }] }] }, 0)],
  });
  const foreach = { seconds: round((performance.now() - t) / 1000), parent: await historyOf(foreachId), batch: await historyOf(`${foreachId}:each:batch-0`) };
  await writeResults('fanout', { parallel, foreach }, [
    '## Fan-out',
    '',
    '| run | wall s | history events | history bytes |',
    '|---|---|---|---|',
    `| parallel of 100 http branches | ${parallel.seconds} | ${parallel.events} | ${parallel.bytes} |`,
    `| foreach of 10,000 items (concurrency 50): parent | ${foreach.seconds} | ${foreach.parent.events} | ${foreach.parent.bytes} |`,
    `| … one of its 10 batches (1,000 items) | | ${foreach.batch.events} | ${foreach.batch.bytes} |`,
  ].join('\n'));
}

async function parkedBench(): Promise<void> {
  const count = Number(process.env.BENCH_PARKED ?? 5000);
  const definition: Definition = { name: 'parked', steps: [{ id: 'wait', type: 'wait_for_event', config: { name: 'go' } }] };
  const rssBefore = process.memoryUsage().rss;
  const started = await throughput(count, IN_FLIGHT, (i) => infra.client.workflow.start('interpreter', { taskQueue: TASK_QUEUE, workflowId: id('parked'), args: [input(definition, i)] }));
  await new Promise((r) => setTimeout(r, 5_000));
  const rssAfter = process.memoryUsage().rss;
  const data = { parked: count, startsPerSecond: started.perSecond, workerProcessRssMb: { before: mb(rssBefore), after: mb(rssAfter) } };
  await writeResults('parked', data, [
    `## Parked runs (${count} waiting on an event)`,
    '',
    `Started at ${started.perSecond} runs/s; worker process RSS ${data.workerProcessRssMb.before} MB → ${data.workerProcessRssMb.after} MB (cache of 1,000 workflows; parked runs beyond it are evicted and cost the worker nothing).`,
  ].join('\n'));
}

async function scaleoutBench(): Promise<void> {
  await worker.stop();
  const rows: { workers: number; perSecond: number }[] = [];
  for (const n of [1, 2, 4]) {
    const children = Array.from({ length: n }, () => startWorkerProcess(infra));
    await new Promise((r) => setTimeout(r, 8_000));
    const r = await throughput(RUNS, IN_FLIGHT, (i) => infra.client.workflow.execute('interpreter', { taskQueue: TASK_QUEUE, workflowId: id(`scale${n}`), args: [input(threeSteps, i)] }));
    rows.push({ workers: n, perSecond: r.perSecond });
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => once(c, 'exit')));
  }
  await writeResults('scaleout', rows, ['## Worker scale-out (JSON transform → http → transform)', '', '| worker processes | runs/s |', '|---|---|', ...rows.map((r) => `| ${r.workers} | ${r.perSecond} |`)].join('\n'));
}

const row = (name: string, t: { perSecond: number; latencyMs: { p50: number; p95: number; p99: number } }) => `| ${name} | ${t.perSecond} | ${t.latencyMs.p50} | ${t.latencyMs.p95} | ${t.latencyMs.p99} |`;
const round = (n: number) => Math.round(n * 100) / 100;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

try {
  if (wanted('interpreter')) await interpreterBench();
  if (wanted('trigger')) await triggerBench();
  if (wanted('fanout')) await fanoutBench();
  if (wanted('parked')) await parkedBench();
  if (wanted('scaleout')) await scaleoutBench();
} finally {
  server.close();
  if (!wanted('scaleout')) await worker.stop();
  await receiver.close();
  await infra.stop();
}
process.exit(0);

// `npm run bench [-- interpreter trigger fanout code parked scaleout events cluster profile load scale]`: each benchmark starts what
// it needs, measures against a baseline in the same run, is bounded in count and time, and writes
// JSON and a markdown table to bench/results/. Never part of `npm test`. BENCH_PER_ROUND and
// BENCH_ROUNDS shrink the interpreter benchmark for a quick check (its results are then not comparable).
// `cluster` (bench/cluster.ts), `profile` (bench/profile.ts) and `load` (bench/load.ts) run only when
// named: they start stacks of their own (bench/stack.ts), on the PostgreSQL-backed server among others.
import type { Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Definition } from '../src/definitions/schema.js';
import { runSearchAttributes } from '../src/workflows/search-attributes.js';
import type { RunInput } from '../src/workflows/run-model.js';
import { stampRun } from '../src/workflows/revisions.js';
import { clusterBench } from './cluster.js';
import { codeBench } from './code.js';
import { eventsBench } from './events.js';
import { loadBench } from './load.js';
import { profileBench } from './profile.js';
import { scaleBench } from './scale.js';
import {
  cpuMs,
  cpuPerRun,
  type CpuProbe,
  percentiles,
  readCpu,
  selfCpuMs,
  rssMb,
  type Percentiles,
  threeStepJob,
  throughput,
  writeResults,
  type Throughput,
} from './harness.js';
import {
  type ApiProcess,
  envNumber,
  namedBenches,
  startApiProcess,
  startStack,
  stopWorkerProcesses,
  TASK_QUEUE,
} from './stack.js';

const RUNS = envNumber('BENCH_RUNS', 300);
const IN_FLIGHT = 50;
const ROUNDS = envNumber('BENCH_ROUNDS', 5);
/** Runs of each kind per round; lower it (e.g. BENCH_PER_ROUND=20 BENCH_ROUNDS=2) for a quick check. */
const PER_ROUND = envNumber('BENCH_PER_ROUND', 100);
const chosen = namedBenches();
const wanted = (name: string) => chosen.length === 0 || chosen.includes(name);

// These start stacks of their own and run only when named (scale: bench/scale.ts, 100× the data).
const ON_THEIR_OWN = { cluster: clusterBench, profile: profileBench, load: loadBench, scale: scaleBench } as const;
for (const [name, bench] of Object.entries(ON_THEIR_OWN)) if (chosen.includes(name)) await bench();
if (chosen.length > 0 && chosen.every((name) => name in ON_THEIR_OWN)) process.exit(0);

// One worker process, as deployed (scale-out starts more); the API as its own process, as
// deployed: one with a worker of its own (API_WORKER=true), on which the runs it triggers start
// eagerly, and one without (trigger latency).
const stack = await startStack({ server: 'dev', apiOwnWorker: true });
const { infra, api, workers, url } = stack;
const apiWithWorker = stack.apiOwnWorker!;

const threeSteps = threeStepJob(url);

async function triggerAndWait(workflowId: string, n: number): Promise<unknown> {
  const { runId } = JSON.parse(
    await apiWithWorker.call('POST', `/v1/workflows/${workflowId}/runs`, JSON.stringify({ n })),
  ) as { runId: string };
  return infra.client.workflow.getHandle(runId).result();
}

const input = (definition: Definition, n: number): RunInput => ({
  ...stampRun(undefined),
  tenantId: 'bench',
  workflowId: 'bench',
  version: 1,
  definition,
  trigger: { n },
});
let seq = 0;
const id = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;

async function interpreterBench(): Promise<void> {
  // Every row but the floor does the same work: transform → http → transform, one request each.
  const apiWorkflowId = await api.createWorkflow(threeSteps);
  const kinds = {
    empty: () => infra.client.workflow.execute('emptyWorkflow', { taskQueue: TASK_QUEUE, workflowId: id('empty') }),
    handWritten: (i: number) =>
      infra.client.workflow.execute('handWritten', { taskQueue: TASK_QUEUE, workflowId: id('hand'), args: [url, i] }),
    json3Steps: (i: number) =>
      infra.client.workflow.execute('interpreter', {
        taskQueue: TASK_QUEUE,
        workflowId: id('json'),
        args: [input(threeSteps, i)],
      }),
    apiTrigger3Steps: (i: number) => triggerAndWait(apiWorkflowId, i),
  };
  const order = Object.keys(kinds) as (keyof typeof kinds)[];
  // Each kind warms up first (code paths, caches, connections, the worker's workflow cache), so no row pays for being first.
  for (const kind of order) await throughput(Math.min(PER_ROUND, 50), 10, kinds[kind]);
  // Where the CPU of a run goes, summed over the rounds: each process kind, read from /proc.
  const cpuProbe: CpuProbe = {
    server: () => cpuMs(infra.serverPid),
    worker: () => cpuMs(workers[0]?.pid ?? 0),
    api: async () => (await cpuMs(apiWithWorker.child.pid ?? 0)) + (await cpuMs(api.child.pid ?? 0)),
    postgres: () => cpuMs(infra.postmasterPid),
    client: selfCpuMs,
  };
  const cpuSpent: Record<keyof typeof kinds, Record<string, number>> = {
    empty: {},
    handWritten: {},
    json3Steps: {},
    apiTrigger3Steps: {},
  };
  // Rounds of each in turn, so that a server slowing down as its database grows, or a machine busier
  // for a while, weighs on all alike; each ratio is taken within a round. Each round starts with
  // the next kind, so that no kind always runs first, or always right after the same other.
  const results: Record<keyof typeof kinds, Throughput[]> = {
    empty: [],
    handWritten: [],
    json3Steps: [],
    apiTrigger3Steps: [],
  };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) {
      const before = await readCpu(cpuProbe);
      results[kind].push(await throughput(PER_ROUND, IN_FLIGHT, kinds[kind]));
      const after = await readCpu(cpuProbe);
      for (const [k, v] of Object.entries(after)) cpuSpent[kind][k] = (cpuSpent[kind][k] ?? 0) + v - before[k]!;
    }
  }
  const [empty, hand, json, viaApi] = [
    combine(results.empty),
    combine(results.handWritten),
    combine(results.json3Steps),
    combine(results.apiTrigger3Steps),
  ];
  const perRoundRatio = (a: Throughput[], b: Throughput[]) => ratios(a.map((t, r) => t.perSecond / b[r]!.perSecond));
  const data = {
    runsEach: ROUNDS * PER_ROUND,
    rounds: ROUNDS,
    inFlight: IN_FLIGHT,
    empty,
    handWritten: hand,
    json3Steps: json,
    apiTrigger3Steps: viaApi,
    cpuMsPerRun: {
      empty: cpuPerRun({}, cpuSpent.empty, ROUNDS * PER_ROUND),
      handWritten: cpuPerRun({}, cpuSpent.handWritten, ROUNDS * PER_ROUND),
      json3Steps: cpuPerRun({}, cpuSpent.json3Steps, ROUNDS * PER_ROUND),
      apiTrigger3Steps: cpuPerRun({}, cpuSpent.apiTrigger3Steps, ROUNDS * PER_ROUND),
    },
    ratios: {
      jsonVsHandWritten: perRoundRatio(results.json3Steps, results.handWritten),
      apiTrigger3StepsVsEmpty: perRoundRatio(results.apiTrigger3Steps, results.empty),
    },
  };
  const shown = (r: { median: number; min: number; max: number }) => `**${r.median}×** (rounds ${r.min}–${r.max})`;
  await writeResults(
    'interpreter',
    data,
    [
      `## Interpreter overhead (${data.runsEach} runs each in ${ROUNDS} rounds, ${IN_FLIGHT} in flight, one worker, file-backed dev server)`,
      '',
      '| workflow | runs/s | p50 ms | p95 ms | p99 ms | CPU ms/run: server | worker | API | PostgreSQL | bench client |',
      '|---|---|---|---|---|---|---|---|---|---|',
      row('empty workflow (server floor)', empty) + cpuCells(data.cpuMsPerRun.empty),
      row('hand-written transform → http (local activity) → transform', hand) + cpuCells(data.cpuMsPerRun.handWritten),
      row('JSON transform → http → transform (client start)', json) + cpuCells(data.cpuMsPerRun.json3Steps),
      row(
        'JSON transform → http → transform, triggered through the API process (started eagerly on its worker)',
        viaApi,
      ) + cpuCells(data.cpuMsPerRun.apiTrigger3Steps),
      '',
      `Median of the per-round ratios: JSON / hand-written ${shown(data.ratios.jsonVsHandWritten)}; API-triggered transform → http → transform / empty workflow ${shown(data.ratios.apiTrigger3StepsVsEmpty)}. Every kind was warmed up first; the order of the kinds rotates from round to round; latency percentiles are of every run of every round. CPU ms per run: user + system time from /proc over every round, divided by the runs, of the dev server (its SQLite included), the worker process, the two API processes (one idle but for the API-triggered row, where the runs run on its own worker), PostgreSQL (the run index) and the benchmark client.`,
    ].join('\n'),
  );
}

/** The median, least and greatest of some ratios. */
function ratios(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: round(sorted[Math.floor(sorted.length / 2)] ?? 0),
    min: round(sorted[0] ?? 0),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

/** The rounds of one kind as one: runs over total time; latencies of every run of every round (all warm). */
function combine(parts: Throughput[]): Omit<Throughput, 'samplesMs'> {
  const runs = parts.reduce((n, p) => n + p.runs, 0);
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  return {
    runs,
    seconds: round(seconds),
    perSecond: Math.round((runs / seconds) * 10) / 10,
    latencyMs: percentiles(parts.flatMap((p) => p.samplesMs)),
  };
}

async function triggerBench(): Promise<void> {
  const definition: Definition = {
    name: 'bench: trigger latency',
    steps: [{ id: 'noop', type: 'transform', config: { expression: '1' } }],
  };
  const workflowId = await api.createWorkflow(definition);
  // Wired as the API's own client (bootstrap), so a bare start costs what the API's start does.
  const client = infra.client;
  const pairs = envNumber('BENCH_TRIGGER_PAIRS', 300);
  // As deployed, the worker runs each run as it starts, on the same two cores as everything
  // else; then with runs left queued (a task queue no worker polls), the API's own cost.
  const unpolled = await startApiProcess(infra, { worker: false, taskQueue: 'bench-unpolled' });
  const run = await pairedStarts(api, TASK_QUEUE, workflowId, definition, client, pairs);
  const queued = await pairedStarts(unpolled, 'bench-unpolled', workflowId, definition, client, pairs);
  await unpolled.close();
  const data = { pairs, startsPerSecond: 20, run, queued };
  const rows = (r: PairedStarts) => [
    `| bare \`client.workflow.start\` (same input, id policy, search attributes) | ${r.bareStart.p50} | ${r.bareStart.p95} | ${r.bareStart.p99} |`,
    `| \`POST /v1/workflows/{id}/runs\` (JWT, rate limits, index row) | ${r.apiTrigger.p50} | ${r.apiTrigger.p95} | ${r.apiTrigger.p99} |`,
    `| \`GET /healthz\` on the same API (the HTTP round trip alone) | ${r.healthz.p50} | ${r.healthz.p95} | ${r.healthz.p99} |`,
  ];
  await writeResults(
    'trigger',
    data,
    [
      `## Trigger latency (${pairs} pairs, ${data.startsPerSecond} starts/s, the API as its own process)`,
      '',
      '| path | p50 ms | p95 ms | p99 ms |',
      '|---|---|---|---|',
      '| *the worker runs each run as it starts (one 2-core machine)* | | | |',
      ...rows(run),
      '| *runs left queued (no worker competes for the cores)* | | | |',
      ...rows(queued),
      '',
      `The API adds **${run.addedMedianOfPairsMs} ms** (median of the paired differences) while the worker runs the runs, **${queued.addedMedianOfPairsMs} ms** with runs left queued; the HTTP round trip itself is ${run.healthz.p50} and ${queued.healthz.p50} ms.`,
    ].join('\n'),
  );
}

interface PairedStarts {
  bareStart: Percentiles;
  apiTrigger: Percentiles;
  healthz: Percentiles;
  addedMedianOfPairsMs: number;
}

/**
 * Bare starts and API triggers in pairs, 20 a second in all, each pair alternating which goes
 * first. The bare start is the API's own call: same workflow, input, id policy, search attributes.
 */
async function pairedStarts(
  target: ApiProcess,
  taskQueue: string,
  workflowId: string,
  definition: Definition,
  client: Client,
  pairs: number,
): Promise<PairedStarts> {
  const runInput: RunInput = {
    ...stampRun(undefined),
    tenantId: 'bench',
    workflowId,
    version: 1,
    definition,
    trigger: { n: 1 },
  };
  const bareStart = () =>
    client.workflow.start('interpreter', {
      taskQueue,
      workflowId: id('bare'),
      args: [runInput],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: runSearchAttributes(runInput),
    });
  const apiTrigger = () => target.call('POST', `/v1/workflows/${workflowId}/runs`, '{"n":1}');
  const health = () => target.call('GET', '/healthz');
  const timed = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  const gapMs = 50;
  const bare: number[] = [];
  const viaApi: number[] = [];
  const floor: number[] = [];
  const added: number[] = [];
  for (let i = -20; i < pairs; i++) {
    const first = i % 2 === 0 ? bareStart : apiTrigger;
    const a = await timed(first);
    await sleep(gapMs);
    const b = await timed(first === bareStart ? apiTrigger : bareStart);
    const h = await timed(health);
    await sleep(gapMs);
    if (i < 0) continue; // warm-up
    const [b0, a0] = first === bareStart ? [a, b] : [b, a];
    bare.push(b0);
    viaApi.push(a0);
    floor.push(h);
    added.push(a0 - b0);
  }
  return {
    bareStart: percentiles(bare),
    apiTrigger: percentiles(viaApi),
    healthz: percentiles(floor),
    addedMedianOfPairsMs: percentiles(added).p50,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function historyOf(workflowId: string): Promise<{ events: number; bytes: number }> {
  const history = await infra.client.workflow.getHandle(workflowId).fetchHistory();
  return { events: history.events?.length ?? 0, bytes: JSON.stringify(history).length };
}

async function fanoutBench(): Promise<void> {
  const branches = Array.from({ length: 100 }, (_, i) => [
    { id: `b${i}`, type: 'http' as const, config: { method: 'POST', url, body: { i } } },
  ]);
  const parallelId = id('parallel');
  let t = performance.now();
  await infra.client.workflow.execute('interpreter', {
    taskQueue: TASK_QUEUE,
    workflowId: parallelId,
    args: [input({ name: 'fan-out', steps: [{ id: 'fan', type: 'parallel', branches }] }, 0)],
  });
  const parallel = { seconds: round((performance.now() - t) / 1000), ...(await historyOf(parallelId)) };
  const foreachId = id('foreach');
  t = performance.now();
  await infra.client.workflow.execute('interpreter', {
    taskQueue: TASK_QUEUE,
    workflowId: foreachId,
    args: [
      input(
        {
          name: 'foreach',
          steps: [
            {
              id: 'each',
              type: 'foreach',
              items: '[1..10000]',
              concurrency: 50,
              steps: [{ id: 'double', type: 'transform', config: { expression: 'item * 2' } }],
            },
          ],
        },
        0,
      ),
    ],
  });
  const foreach = {
    seconds: round((performance.now() - t) / 1000),
    parent: await historyOf(foreachId),
    batch: await historyOf(`${foreachId}:each:batch-0`),
  };
  await writeResults(
    'fanout',
    { parallel, foreach },
    [
      '## Fan-out',
      '',
      '| run | wall s | history events | history bytes |',
      '|---|---|---|---|',
      `| parallel of 100 http branches | ${parallel.seconds} | ${parallel.events} | ${parallel.bytes} |`,
      `| foreach of 10,000 items (concurrency 50): parent | ${foreach.seconds} | ${foreach.parent.events} | ${foreach.parent.bytes} |`,
      `| … one of its 10 batches (1,000 items) | | ${foreach.batch.events} | ${foreach.batch.bytes} |`,
    ].join('\n'),
  );
}

async function parkedBench(): Promise<void> {
  const count = envNumber('BENCH_PARKED', 5000);
  const definition: Definition = {
    name: 'parked',
    steps: [{ id: 'wait', type: 'wait_for_event', config: { name: 'go' } }],
  };
  const worker = workers[0]!;
  const rssBefore = await rssMb(worker.pid ?? 0);
  const started = await throughput(count, IN_FLIGHT, (i) =>
    infra.client.workflow.start('interpreter', {
      taskQueue: TASK_QUEUE,
      workflowId: id('parked'),
      args: [input(definition, i)],
    }),
  );
  await new Promise((r) => setTimeout(r, 5_000));
  const rssAfter = await rssMb(worker.pid ?? 0);
  const data = {
    parked: count,
    startsPerSecond: started.perSecond,
    workerProcessRssMb: { before: rssBefore, after: rssAfter },
  };
  await writeResults(
    'parked',
    data,
    [
      `## Parked runs (${count} waiting on an event)`,
      '',
      `Started at ${started.perSecond} runs/s; worker process RSS ${data.workerProcessRssMb.before} MB → ${data.workerProcessRssMb.after} MB (cache of 1,000 workflows; parked runs beyond it are evicted and cost the worker nothing).`,
    ].join('\n'),
  );
}

async function scaleoutBench(): Promise<void> {
  const rows: { workers: number; perSecond: number }[] = [];
  for (const n of [1, 2, 4]) {
    await stack.scaleWorkers(n);
    const run = (i: number) =>
      infra.client.workflow.execute('interpreter', {
        taskQueue: TASK_QUEUE,
        workflowId: id(`scale${n}`),
        args: [input(threeSteps, i)],
      });
    await throughput(100, IN_FLIGHT, run); // warms the new processes up
    const r = await throughput(RUNS, IN_FLIGHT, run);
    rows.push({ workers: n, perSecond: r.perSecond });
  }
  await stopWorkerProcesses(workers.splice(1));
  await writeResults(
    'scaleout',
    rows,
    [
      '## Worker scale-out (JSON transform → http → transform)',
      '',
      '| worker processes | runs/s |',
      '|---|---|',
      ...rows.map((r) => `| ${r.workers} | ${r.perSecond} |`),
    ].join('\n'),
  );
}

const row = (name: string, t: { perSecond: number; latencyMs: { p50: number; p95: number; p99: number } }) =>
  `| ${name} | ${t.perSecond} | ${t.latencyMs.p50} | ${t.latencyMs.p95} | ${t.latencyMs.p99} |`;
const cpuCells = (ms: Record<string, number | undefined>) =>
  ` ${['server', 'worker', 'api', 'postgres', 'client'].map((k) => ms[k] ?? 0).join(' | ')} |`;
const round = (n: number) => Math.round(n * 100) / 100;

try {
  if (wanted('interpreter')) await interpreterBench();
  if (wanted('trigger')) await triggerBench();
  if (wanted('fanout')) await fanoutBench();
  if (wanted('code'))
    await codeBench({
      client: infra.client,
      workerPid: workers[0]?.pid ?? 0,
      serverPid: infra.serverPid,
      rounds: ROUNDS,
      perRound: PER_ROUND,
      inFlight: IN_FLIGHT,
    });
  if (wanted('scaleout')) await scaleoutBench();
  // Its runs and correlation workflows stay on the server; BENCH_EVENTS lowers the count for a quick check.
  if (wanted('events')) await eventsBench({ client: infra.client, api, count: envNumber('BENCH_EVENTS', 10_000) });
  // Last: its 5,000 parked runs stay on the server.
  if (wanted('parked')) await parkedBench();
} catch (err) {
  // Said before the processes stop: a client call still retrying then would end the process first.
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  throw err;
} finally {
  await stack.stop();
}
process.exit(0);

// `npm run bench -- load`: latency under offered load, in the shape of Kestra's published benchmark.
// Webhook → transform → http → transform (threeStepJob, a webhook trigger of the API process, its
// runs on a worker process) and, beside it at the same rates, the empty workflow started by a
// client. Open loop: the i-th start is sent at i/rate seconds whatever the answers (a start answered
// late does not hold back the next), and its latency counts from that due time to the run's close
// time as Temporal recorded it, so a slow answer is not hidden by a late send. Per rate: the rate
// achieved, p50/p95/p99 from trigger to completion, errors, CPU ms per run of each process (/proc).
// The knee is the first rate whose p99 passes 1 s. On the dev server (every process on both cores)
// and on the PostgreSQL-backed server in the `split` layout. Knobs (smoke run: BENCH_LOAD_RATES=5,10
// BENCH_LOAD_SECONDS=10 BENCH_LOAD_SERVERS=dev): the rates, the seconds of each, the servers, and
// BENCH_LOAD_DRAIN_S, how long the runs of a rate may take to close after its last send.
import { loadavg } from 'node:os';
import { Pool as UndiciPool } from 'undici';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import {
  cpuMs,
  cpuPerRun,
  type CpuProbe,
  percentiles,
  type Percentiles,
  postgresCpu,
  readCpu,
  selfCpuMs,
  threeStepJob,
  writeResults,
} from './harness.js';
import {
  type Cores,
  envChoices,
  envNumber,
  envNumbers,
  type Infra,
  layOut,
  type Stack,
  startStack,
  TASK_QUEUE,
  unpin,
} from './stack.js';

const RATES = envNumbers('BENCH_LOAD_RATES', [5, 10, 17, 25, 35, 50]);
const SECONDS = envNumber('BENCH_LOAD_SECONDS', 60);
const SERVERS = envChoices('BENCH_LOAD_SERVERS', ['dev', 'postgres'] as const, ['dev', 'postgres']);
const DRAIN_S = envNumber('BENCH_LOAD_DRAIN_S', 120);
/** Starts not yet answered beyond this are not sent (counted as `dropped`): the client's memory stays bounded. */
const MAX_OPEN = 2_000;
/** A start not answered in this time counts as an error (`timeout`). */
const START_TIMEOUT_MS = 10_000;
const KNEE_MS = 1_000;
const WARM_UP_RATE = 5;
const WARM_UP_SECONDS = 5;
const LAYOUT: Record<'dev' | 'postgres', Cores> = { dev: 'shared', postgres: 'split' };
const KINDS = ['server', 'postgresTemporal', 'postgresApp', 'api', 'worker', 'client'] as const;

type Workload = 'webhook' | 'empty';

/** A start: resolves with the run's workflow id once the start is accepted. */
type Start = (n: number) => Promise<string>;

interface Row {
  workload: Workload;
  offeredPerSecond: number;
  offered: number;
  /** Runs that closed as completed, and of those the ones that closed within the offered window. */
  completed: number;
  /** Completed runs that closed within the window, over its seconds. */
  achievedPerSecond: number;
  latencyMs: Percentiles & { max: number };
  errors: { refused: number; timeout: number; dropped: number; failed: number; unfinished: number };
  /** The latest a start was sent after its due time: the client kept the rate if this is small. */
  sendLagMaxMs: number;
  cpuMsPerRun: Record<string, number>;
  cpuMsPerRunTotal: number;
}

/** Waits `ms`. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a rejection after `ms` (the call itself is abandoned, not cancelled). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
class TimeoutError extends Error {}

/**
 * Sends `rate × seconds` starts, the i-th due at i/rate seconds, without waiting for answers. Each
 * accepted start comes back with its due time (ms since the epoch, the clock Temporal stamps).
 */
async function openLoop(rate: number, seconds: number, start: Start) {
  const total = Math.round(rate * seconds);
  const accepted: { runId: string; dueAt: number }[] = [];
  const errors = { refused: 0, timeout: 0, dropped: 0 };
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  const epoch0 = Date.now();
  let sendLagMaxMs = 0;
  for (let i = 0; i < total; i++) {
    const due = (i * 1000) / rate;
    const wait = t0 + due - performance.now();
    if (wait > 0) await sleep(wait);
    sendLagMaxMs = Math.max(sendLagMaxMs, performance.now() - t0 - due);
    if (pending.size >= MAX_OPEN) {
      errors.dropped++;
      continue;
    }
    const dueAt = epoch0 + due;
    const p: Promise<void> = within(start(i), START_TIMEOUT_MS)
      .then(
        (runId) => void accepted.push({ runId, dueAt }),
        (err: unknown) => void (err instanceof TimeoutError ? errors.timeout++ : errors.refused++),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  }
  // Each is bounded by START_TIMEOUT_MS.
  await Promise.all(pending);
  return { total, accepted, errors, sendLagMaxMs: Math.round(sendLagMaxMs), windowEnd: epoch0 + seconds * 1000 };
}

/**
 * Each run's close time and status as Temporal recorded them, asked once it is expected closed:
 * passes over the runs still open, 16 at a time, until none is or DRAIN_S has passed.
 */
async function closeTimes(infra: Infra, runIds: string[]) {
  const closed = new Map<string, { at: number; status: WorkflowExecutionStatusName }>();
  const deadline = performance.now() + DRAIN_S * 1000;
  let open = runIds;
  while (open.length > 0 && performance.now() < deadline) {
    const queue = [...open];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          const d = await infra.client.workflow
            .getHandle(id)
            .describe()
            .catch(() => undefined);
          if (d?.closeTime) closed.set(id, { at: d.closeTime.getTime(), status: d.status.name });
        }
      }),
    );
    open = open.filter((id) => !closed.has(id));
    if (open.length > 0) await sleep(1_000);
  }
  return closed;
}

/** One workload at one offered rate: the open loop, then every run's close, then the figures. */
async function measureRate(
  infra: Infra,
  workload: Workload,
  rate: number,
  seconds: number,
  start: Start,
  probe: CpuProbe,
): Promise<Row> {
  const before = await readCpu(probe);
  const sent = await openLoop(rate, seconds, start);
  const closed = await closeTimes(
    infra,
    sent.accepted.map((a) => a.runId),
  );
  const after = await readCpu(probe);
  const latencies: number[] = [];
  let failed = 0;
  let inWindow = 0;
  for (const { runId, dueAt } of sent.accepted) {
    const c = closed.get(runId);
    if (!c) continue;
    if (c.status !== 'COMPLETED') {
      failed++;
      continue;
    }
    latencies.push(c.at - dueAt);
    if (c.at <= sent.windowEnd) inWindow++;
  }
  const completed = latencies.length;
  const perRun = cpuPerRun(before, after, Math.max(1, completed));
  return {
    workload,
    offeredPerSecond: rate,
    offered: sent.total,
    completed,
    achievedPerSecond: Math.round((inWindow / seconds) * 10) / 10,
    latencyMs: { ...percentiles(latencies), max: Math.round(Math.max(0, ...latencies)) },
    errors: { ...sent.errors, failed, unfinished: sent.accepted.length - closed.size },
    sendLagMaxMs: sent.sendLagMaxMs,
    cpuMsPerRun: perRun,
    cpuMsPerRunTotal: Math.round(KINDS.reduce((n, k) => n + (perRun[k] ?? 0), 0) * 10) / 10,
  };
}

/** Every rate on one server, the two workloads taking turns at each. */
async function measureServer(stack: Stack, server: 'dev' | 'postgres'): Promise<Row[]> {
  const { infra, api, url } = stack;
  const worker = stack.workers[0]!;
  const workflowId = await api.createWorkflow(threeStepJob(url));
  const { url: hookPath } = JSON.parse(await api.call('POST', `/v1/workflows/${workflowId}/webhooks`, '{}')) as {
    url: string;
  };
  // The webhook's sender: no token (the hook's own is in its path), as a third party calls it.
  const sender = new UndiciPool(api.url, { connections: 256, headersTimeout: START_TIMEOUT_MS });
  const tag = Date.now().toString(36);
  const starts: Record<Workload, Start> = {
    webhook: async (n) => {
      const res = await sender.request({
        method: 'POST',
        path: hookPath,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n }),
      });
      const text = await res.body.text();
      if (res.statusCode !== 202) throw new Error(`webhook: ${res.statusCode} ${text}`);
      return (JSON.parse(text) as { runId: string }).runId;
    },
    empty: async (n) => {
      const workflowId = `load-empty-${tag}-${n}-${Math.random().toString(36).slice(2, 8)}`;
      await infra.client.workflow.start('emptyWorkflow', { taskQueue: TASK_QUEUE, workflowId });
      return workflowId;
    },
  };
  const postgres = postgresCpu(infra.postmasterPid);
  const probe: CpuProbe = {
    server: () => cpuMs(infra.serverPid),
    postgresTemporal: postgres.rest,
    postgresApp: postgres.app,
    api: () => cpuMs(api.child.pid ?? 0),
    worker: () => cpuMs(worker.pid ?? 0),
    client: selfCpuMs,
  };
  try {
    await layOut(infra, [api.child.pid ?? 0, worker.pid ?? 0], LAYOUT[server]);
    // Warm: code paths, connections, the worker's cache; not counted.
    for (const w of ['webhook', 'empty'] as const)
      await measureRate(infra, w, WARM_UP_RATE, WARM_UP_SECONDS, starts[w], probe);
    const rows: Row[] = [];
    for (const [i, rate] of RATES.entries()) {
      // Each rate starts with the other workload than the last, so neither always runs first.
      const order: Workload[] = i % 2 === 0 ? ['webhook', 'empty'] : ['empty', 'webhook'];
      for (const workload of order) {
        const row = await measureRate(infra, workload, rate, SECONDS, starts[workload], probe);
        process.stderr.write(`${server} ${JSON.stringify(row)}\n`);
        rows.push(row);
      }
    }
    return rows.sort((a, b) => a.offeredPerSecond - b.offeredPerSecond || a.workload.localeCompare(b.workload));
  } finally {
    await sender.close();
    await unpin();
  }
}

/** The first offered rate whose p99 passes 1 s, if any. */
const knee = (rows: Row[], workload: Workload) =>
  rows.find((r) => r.workload === workload && r.latencyMs.p99 > KNEE_MS)?.offeredPerSecond;

const SERVER_LABEL = {
  dev: 'dev server (SQLite), every process on both cores',
  postgres: 'PostgreSQL-backed server, `split`: Temporal + PostgreSQL on core 0, API, worker and client on core 1',
};
const WORKLOAD_LABEL: Record<Workload, string> = {
  webhook: 'webhook → transform → http → transform',
  empty: 'empty workflow (client start)',
};

export async function loadBench(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg().map((n) => Math.round(n * 100) / 100);
  const servers: { server: 'dev' | 'postgres'; cores: Cores; rows: Row[] }[] = [];
  for (const server of SERVERS) {
    const stack = await startStack({ server });
    try {
      servers.push({ server, cores: LAYOUT[server], rows: await measureServer(stack, server) });
    } finally {
      await stack.stop();
    }
  }
  const loadAfter = loadavg().map((n) => Math.round(n * 100) / 100);
  const data = {
    startedAt,
    rates: RATES,
    secondsEach: SECONDS,
    drainSeconds: DRAIN_S,
    loadavg: { before: loadBefore, after: loadAfter },
    servers: servers.map((s) => ({
      ...s,
      kneePerSecond: { webhook: knee(s.rows, 'webhook') ?? null, empty: knee(s.rows, 'empty') ?? null },
    })),
  };
  const kneeText = (rows: Row[], w: Workload) => {
    const at = knee(rows, w);
    return at === undefined ? `p99 stays under 1 s up to ${Math.max(...RATES)}/s` : `**knee at ${at}/s**`;
  };
  const errorsText = (e: Row['errors']) => {
    const parts = Object.entries(e).filter(([, n]) => n > 0);
    return parts.length === 0 ? '0' : parts.map(([k, n]) => `${n} ${k}`).join(', ');
  };
  const at1000 = (rows: Row[], w: Workload) => rows.find((r) => r.workload === w && r.offeredPerSecond === 17);
  const sections = servers.flatMap(({ server, rows }) => [
    `### ${SERVER_LABEL[server]}`,
    '',
    '| offered runs/s | workload | achieved runs/s | completed / offered | p50 ms | p95 ms | p99 ms | errors | CPU ms/run: Temporal server | PostgreSQL: Temporal, background | PostgreSQL: run index | API | worker | bench client | total |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      [
        '',
        r.offeredPerSecond,
        WORKLOAD_LABEL[r.workload],
        r.achievedPerSecond,
        `${r.completed} / ${r.offered}`,
        r.latencyMs.p50,
        r.latencyMs.p95,
        r.latencyMs.p99 > KNEE_MS ? `**${r.latencyMs.p99}**` : r.latencyMs.p99,
        errorsText(r.errors),
        ...KINDS.map((k) => r.cpuMsPerRun[k] ?? 0),
        r.cpuMsPerRunTotal,
        '',
      ]
        .join(' | ')
        .trim(),
    ),
    '',
    `Knee (p99 past 1 s): webhook → http → transform ${kneeText(rows, 'webhook')}; empty workflow ${kneeText(rows, 'empty')}.` +
      (at1000(rows, 'webhook')
        ? ` At 1,000 runs/min (17/s) the webhook's p99 is **${at1000(rows, 'webhook')!.latencyMs.p99} ms** (empty workflow ${at1000(rows, 'empty')?.latencyMs.p99} ms).`
        : ''),
    '',
  ]);
  await writeResults(
    'load',
    data,
    [
      `## Latency under load (open loop, ${SECONDS} s at each offered rate, one worker process; one 2-core machine, load average ${loadBefore.join(' / ')} before and ${loadAfter.join(' / ')} after)`,
      '',
      ...sections,
      `Open loop: the i-th start is sent at i/rate s whatever the answers (at most ${MAX_OPEN} unanswered; a start not answered in ${START_TIMEOUT_MS / 1000} s is a \`timeout\`). Latency: from a start's due time to its run's close time in Temporal (one machine, one clock). Achieved: completed runs that closed within the ${SECONDS} s window, per second. Errors: \`refused\` (an answer other than 202, or a failed start), \`timeout\`, \`dropped\` (not sent: too many unanswered), \`failed\` (the run closed other than completed), \`unfinished\` (still open ${DRAIN_S} s after the last start). The webhook is a trigger of the API process (no worker of its own: its runs go to the worker process); the empty workflow is started by the benchmark's Temporal client. CPU ms per run: user + system time from /proc over the window and until the last run closed, divided by the completed runs, of the Temporal server (on the dev server, its SQLite too), PostgreSQL split into the run index and the rest, the API process, the worker process and the benchmark client. p99 past 1 s in bold.`,
    ].join('\n'),
  );
}

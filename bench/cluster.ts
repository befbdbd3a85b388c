// The cluster benchmark (`npm run bench:cluster`, or `npm run bench -- cluster`): the real Temporal
// server on PostgreSQL (4 shards, temporal-config/), with 1, 2 and 4 worker processes, then the
// file-backed dev server in the same run. Each configuration measures the empty workflow and
// trigger → http → transform through the API process, and the CPU of a run in each process.
// BENCH_CLUSTER_RUNS and BENCH_CLUSTER_IN_FLIGHT size it; BENCH_CLUSTER_QUICK=1 narrows it.
import { availableParallelism, loadavg } from 'node:os';
import {
  cpuMs,
  cpuPerRun,
  percentiles,
  postgresCpu,
  readCpu,
  selfCpuMs,
  threeStepJob,
  throughput,
  writeResults,
  type CpuProbe,
} from './harness.js';
import {
  type ApiProcess,
  type Cores,
  envFlag,
  envNumber,
  type Infra,
  layOut,
  type Stack,
  startStack,
  TASK_QUEUE,
  unpin,
} from './stack.js';

const RUNS = envNumber('BENCH_CLUSTER_RUNS', 300);
const IN_FLIGHT = envNumber('BENCH_CLUSTER_IN_FLIGHT', 30);
/** The workloads of a configuration take turns in rounds, so a machine busier for a while weighs on all alike. */
const ROUNDS = envNumber('BENCH_CLUSTER_ROUNDS', 3);
const PER_ROUND = Math.ceil(RUNS / ROUNDS);
const WARM_UP = Math.min(PER_ROUND, 50);
/** BENCH_CLUSTER_QUICK=1: the PostgreSQL-backed server with one worker process only, for a quick comparison. */
const QUICK = envFlag('BENCH_CLUSTER_QUICK');

/** The process kinds a run's CPU is accounted to, in the tables' order. */
const KINDS = ['server', 'postgresTemporal', 'postgresApp', 'api', 'workers', 'client'] as const;
type Kind = (typeof KINDS)[number];

interface Row {
  server: 'postgres' | 'dev';
  workers: number;
  cores: Cores;
  workload: 'empty' | 'apiTrigger' | 'apiOwnWorker';
  runs: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  /** This row's runs/s over the empty workflow's in the same configuration. */
  vsEmpty: number;
  cpuMsPerRun: Record<string, number>;
  cpuMsPerRunTotal: number;
  /** PostgreSQL's write-ahead log per run, all databases: what a run writes, Temporal's and ours. */
  walKbPerRun: number;
  /** The Temporal server's share of all the CPU a run took (its persistence on PostgreSQL excluded). */
  serverShare: number;
  /** The server's and its persistence's share: on the dev server, SQLite is in the server process. */
  serverWithPersistenceShare: number;
}

/** What one workload of a configuration took over its rounds. */
interface Spent {
  runs: number;
  seconds: number;
  samplesMs: number[];
  cpu: Record<string, number>;
  walBytes: number;
}

/** PostgreSQL's current write-ahead log position, in bytes. */
async function walBytes(infra: Infra): Promise<number> {
  const { rows } = await infra.pool.query<{ bytes: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS bytes");
  return Number(rows[0]?.bytes ?? 0);
}

/** Measures one infrastructure: the empty workflow and the API-triggered run for each worker count. */
async function measure(
  stack: Stack,
  server: Row['server'],
  configurations: { workers: number; cores: Cores }[],
): Promise<Row[]> {
  // As deployed: the API without a worker of its own, its runs on the worker processes' queue.
  const { infra, api, workers } = stack;
  const apiOwnWorker = stack.apiOwnWorker!;
  try {
    const workflowId = await api.createWorkflow(threeStepJob(stack.url));
    let seq = 0;
    const empty = () =>
      infra.client.workflow.execute('emptyWorkflow', {
        taskQueue: TASK_QUEUE,
        workflowId: `empty-${Date.now()}-${seq++}`,
      });
    const trigger = (through: ApiProcess) => async (n: number) => {
      const { runId } = JSON.parse(
        await through.call('POST', `/v1/workflows/${workflowId}/runs`, JSON.stringify({ n })),
      ) as { runId: string };
      return infra.client.workflow.getHandle(runId).result();
    };
    const postgres = postgresCpu(infra.postmasterPid);
    const rows: Row[] = [];
    for (const { workers: n, cores } of configurations) {
      await stack.scaleWorkers(n);
      const engine = [api, apiOwnWorker].map((a) => a.child.pid ?? 0).concat(workers.map((w) => w.pid ?? 0));
      await layOut(infra, engine, cores);
      const probe = (through: ApiProcess): Record<Kind, () => Promise<number>> => ({
        server: () => cpuMs(infra.serverPid),
        postgresTemporal: postgres.rest,
        postgresApp: postgres.app,
        api: () => cpuMs(through.child.pid ?? 0),
        workers: async () => (await Promise.all(workers.map((w) => cpuMs(w.pid ?? 0)))).reduce((a, b) => a + b, 0),
        client: selfCpuMs,
      });
      const workloads: [Row['workload'], (i: number) => Promise<unknown>, CpuProbe][] = [
        ['empty', empty, probe(api)],
        ['apiTrigger', trigger(api), probe(api)],
      ];
      if (n === 1) workloads.push(['apiOwnWorker', trigger(apiOwnWorker), probe(apiOwnWorker)]);
      for (const [, run] of workloads) await throughput(WARM_UP, Math.min(IN_FLIGHT, 10), run);
      const spent: Spent[] = workloads.map(() => ({ runs: 0, seconds: 0, samplesMs: [], cpu: {}, walBytes: 0 }));
      for (let r = 0; r < ROUNDS; r++) {
        for (let w = 0; w < workloads.length; w++) {
          const i = (w + r) % workloads.length;
          const [, run, cpu] = workloads[i]!;
          const [before, walBefore] = [await readCpu(cpu), await walBytes(infra)];
          const t = await throughput(PER_ROUND, IN_FLIGHT, run);
          const [after, walAfter] = [await readCpu(cpu), await walBytes(infra)];
          const acc = spent[i]!;
          acc.walBytes += walAfter - walBefore;
          acc.runs += t.runs;
          acc.seconds += t.seconds;
          acc.samplesMs.push(...t.samplesMs);
          for (const [k, v] of Object.entries(after)) acc.cpu[k] = (acc.cpu[k] ?? 0) + v - before[k]!;
        }
      }
      const rate = (i: number) => Math.round((spent[i]!.runs / spent[i]!.seconds) * 10) / 10;
      workloads.forEach(([workload], i) => {
        const acc = spent[i]!;
        const perRun = cpuPerRun({}, acc.cpu, acc.runs);
        const total = KINDS.reduce((s, k) => s + (perRun[k] ?? 0), 0);
        const persistence = server === 'dev' ? 0 : (perRun.postgresTemporal ?? 0);
        const latency = percentiles(acc.samplesMs);
        const row: Row = {
          server,
          workers: n,
          cores,
          workload,
          runs: acc.runs,
          perSecond: rate(i),
          p50Ms: latency.p50,
          p95Ms: latency.p95,
          vsEmpty: round(rate(i) / rate(0)),
          cpuMsPerRun: perRun,
          cpuMsPerRunTotal: Math.round(total * 10) / 10,
          walKbPerRun: Math.round((acc.walBytes / acc.runs / 1024) * 10) / 10,
          serverShare: round((perRun.server ?? 0) / total),
          serverWithPersistenceShare: round(((perRun.server ?? 0) + persistence) / total),
        };
        process.stderr.write(`${JSON.stringify(row)}\n`);
        rows.push(row);
      });
    }
    return rows;
  } finally {
    await unpin();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

const EXTRA: [Kind, string][] = [
  ['server', 'Temporal server'],
  ['postgresTemporal', "Temporal's PostgreSQL"],
  ['postgresApp', 'run index'],
  ['api', 'API'],
  ['workers', 'worker'],
  ['client', 'bench client'],
];

/** The CPU per run of the API-triggered run over the empty workflow's, by process kind, with one worker process. */
function extraCpu(rows: Row[], server: Row['server']): string {
  const of = (workload: Row['workload']) =>
    rows.find((r) => r.server === server && r.workers === 1 && r.cores === 'shared' && r.workload === workload)
      ?.cpuMsPerRun ?? {};
  const [empty, api] = [of('empty'), of('apiTrigger')];
  const delta = (k: Kind) => Math.round(((api[k] ?? 0) - (empty[k] ?? 0)) * 10) / 10;
  const total = EXTRA.reduce((n, [k]) => n + delta(k), 0);
  return `${EXTRA.map(([k, name]) => `${name} ${delta(k) >= 0 ? '+' : ''}${delta(k)}`).join(', ')} (total +${Math.round(total * 10) / 10})`;
}

const LABEL: Record<Row['workload'], string> = {
  empty: 'empty workflow (client start)',
  apiTrigger: 'trigger → http → transform via the API (runs on the worker processes)',
  apiOwnWorker: 'trigger → http → transform via the API with its own worker (eager start; worker process idle)',
};

export async function clusterBench(): Promise<void> {
  const loadBefore = loadavg().map(round);
  const startedAt = new Date().toISOString();
  const rows: Row[] = [];
  const postgres = await startStack({ server: 'postgres', apiOwnWorker: true });
  try {
    const one = [
      { workers: 1, cores: 'shared' as const },
      { workers: 1, cores: 'split' as const },
    ];
    const more = [
      { workers: 2, cores: 'shared' as const },
      { workers: 4, cores: 'shared' as const },
    ];
    rows.push(...(await measure(postgres, 'postgres', QUICK ? one : [...one, ...more])));
  } finally {
    await postgres.stop();
  }
  if (!QUICK) {
    const dev = await startStack({ server: 'dev', apiOwnWorker: true });
    try {
      rows.push(...(await measure(dev, 'dev', [{ workers: 1, cores: 'shared' }])));
    } finally {
      await dev.stop();
    }
  }
  const loadAfter = loadavg().map(round);
  const data = {
    startedAt,
    runsEach: PER_ROUND * ROUNDS,
    rounds: ROUNDS,
    inFlight: IN_FLIGHT,
    cores: availableParallelism(),
    loadavg: { before: loadBefore, after: loadAfter },
    rows,
  };
  const cell = (n: number) => (n === 0 ? '–' : String(n));
  await writeResults(
    QUICK ? 'cluster-quick' : 'cluster',
    data,
    [
      `## Cluster: PostgreSQL-backed Temporal server v1.32.2 (4 shards) against the dev server (${PER_ROUND * ROUNDS} runs per row in ${ROUNDS} rounds, the workloads of a configuration taking turns, after ${WARM_UP} warm-up each; ${IN_FLIGHT} in flight; one ${data.cores}-core machine running everything, load average ${loadBefore.join(' / ')} before and ${loadAfter.join(' / ')} after)`,
      '',
      "| server | worker processes | cores | workload | runs/s | × empty | p50 ms | p95 ms | CPU ms/run: Temporal server | PostgreSQL: Temporal's databases, background | PostgreSQL: run index | API | workers | bench client | total | server share | server + its persistence | PostgreSQL WAL KB/run |",
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows
        .map((r) =>
          [
            r.server === 'postgres' ? 'PostgreSQL' : 'dev (SQLite)',
            r.workers,
            r.cores === 'split' ? 'split: Temporal + PostgreSQL on core 0, the rest on core 1' : 'shared',
            LABEL[r.workload],
            r.perSecond,
            `${r.vsEmpty}×`,
            r.p50Ms,
            r.p95Ms,
            ...KINDS.map((k) => cell(r.cpuMsPerRun[k] ?? 0)),
            r.cpuMsPerRunTotal,
            `${Math.round(r.serverShare * 100)}%`,
            `${Math.round(r.serverWithPersistenceShare * 100)}%`,
            r.walKbPerRun,
          ].join(' | '),
        )
        .map((line) => `| ${line} |`),
      '',
      `Where a run's CPU goes beyond the empty workflow's (one worker process, runs on it, trigger → http → transform through the API less the empty workflow, ms per run): ${extraCpu(rows, 'postgres')} on the PostgreSQL-backed server${QUICK ? '' : `; ${extraCpu(rows, 'dev')} on the dev server`}.`,
      '',
      "Cores: `shared`, every process on both cores, so a run's rate is the machine's CPU divided by the CPU of a run in all processes together; `split`, the Temporal server and PostgreSQL pinned to core 0 and the API, the workers and the benchmark client to core 1 (taskset), as in production, where Temporal and its database have machines of their own: the rate is then that of whichever side saturates first. CPU ms per run is user + system time from /proc over the measured runs, divided by them: the Temporal server process; PostgreSQL split by backend into the run index (the application database) and everything else (Temporal's two databases, background writers); the API process measured by the row (it runs the worker in the \"own worker\" row); all worker processes; the benchmark client (it starts the runs and waits for their results). On the dev server, Temporal's persistence is SQLite inside the server process. WAL KB per run: PostgreSQL's write-ahead log written over the measured runs (all its databases), divided by them. \"× empty\" is the row's runs/s over the empty workflow's in the same configuration.",
    ].join('\n'),
  );
}

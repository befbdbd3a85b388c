// 100× the data: the run index at 1,000,000 rows, 50,000 runs parked on an event, a foreach of
// 100,000 items. Each part reports memory and latency; `npm run bench -- scale` runs all three on a
// file-backed dev server with one worker process and one API process (JWT on), and merges its parts
// into bench/results/scale.{json,md}, so a part can be run again alone. Knobs:
//   BENCH_SCALE_PARTS     which parts, comma-separated: index, foreach, parked (default all three)
//   BENCH_SCALE_ROWS      rows inserted into the run index (default 1,000,000)
//   BENCH_SCALE_ITEMS     items of the foreach (default 100,000)
//   BENCH_SCALE_PARKED    runs parked on an event (default 50,000; ~10 min to start on the dev server)
//   BENCH_SCALE_REQUESTS  timed requests per list page (default 200, after 20 to warm up)
import { readFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import proto from '@temporalio/proto';
import type { Definition } from '../src/definitions/schema.js';
import { encodeCursor } from '../src/db/cursor.js';
import type { Pool } from '../src/db/pool.js';
import { createRunClosuresRepo } from '../src/db/run-closures-repo.js';
import { createRunsRepo, type RunFilter } from '../src/db/runs-repo.js';
import type { RunInput, RunResult } from '../src/workflows/run-model.js';
import { stampRun } from '../src/workflows/revisions.js';
import { waitFor } from '../test/helpers/ports.js';
import { cpuMs, percentiles, type Percentiles, rssMb, throughput, writeResults } from './harness.js';
import {
  type ApiProcess,
  type Infra,
  startApiProcess,
  startInfra,
  startWorkerProcess,
  stopWorkerProcesses,
  envChoices,
  envNumber,
  TASK_QUEUE,
} from './stack.js';

const ROWS = envNumber('BENCH_SCALE_ROWS', 1_000_000);
const ITEMS = envNumber('BENCH_SCALE_ITEMS', 100_000);
const PARKED = envNumber('BENCH_SCALE_PARKED', 50_000);
const REQUESTS = envNumber('BENCH_SCALE_REQUESTS', 200);
const PARTS = envChoices('BENCH_SCALE_PARTS', ['index', 'foreach', 'parked'] as const, ['index', 'foreach', 'parked']);
const IN_FLIGHT = 50;
/** The tenant the API's token speaks for: the largest of the index. */
const TENANT = 'bench';
/** The share of the seeded rows that are the measured tenant's; the rest spread over 49 others. */
const TENANT_SHARE = 0.5;
const DAYS = 30;
const DAY_MS = 86_400_000;
const IDLE_MS = 30_000;

interface PageFigure {
  name: string;
  query: string;
  items: number;
  latencyMs: Percentiles;
  /** PostgreSQL's own time for the page's statement (EXPLAIN ANALYZE). */
  executionMs: number;
  plan: string;
}

export async function scaleBench(): Promise<void> {
  // Retention by age only (30 days, the default), none by count: the default bound of 100,000 runs
  // a tenant would otherwise start pruning the listed tenant's seeded rows a minute in.
  process.env.RETENTION_RUNS_MAX_PER_TENANT = '0';
  const infra = await startInfra();
  const worker = await startWorkerProcess(infra);
  const api = await startApiProcess(infra, { worker: false });
  const results = await previousResults();
  try {
    const now = Date.now();
    // Each part's figures are written as soon as it ends.
    if (PARTS.includes('index')) {
      results.index = await indexPart(infra, api, now);
      await writeResults('scale', results, markdown(results));
    }
    if (PARTS.includes('foreach')) {
      results.foreach = await foreachPart(infra, worker);
      await writeResults('scale', results, markdown(results));
    }
    // Last: its runs stay parked on the server.
    if (PARTS.includes('parked')) {
      results.parked = await parkedPart(infra, api, worker, now);
      await writeResults('scale', results, markdown(results));
    }
  } catch (err) {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    throw err;
  } finally {
    await api.close();
    await stopWorkerProcesses([worker]);
    await infra.stop();
  }
}

type Results = {
  index?: Awaited<ReturnType<typeof indexPart>>;
  foreach?: Awaited<ReturnType<typeof foreachPart>>;
  parked?: Awaited<ReturnType<typeof parkedPart>>;
};

/** The parts of an earlier run, kept where this run does not measure them again. */
async function previousResults(): Promise<Results> {
  const text = await readFile(new URL('./results/scale.json', import.meta.url), 'utf8').catch(() => '{}');
  return JSON.parse(text) as Results;
}

// ---------------------------------------------------------------------------------------------
// The run index at ROWS rows.

/**
 * Inserts `rows` ended and open runs straight into the index, as a year of a busy deployment
 * leaves it: half the measured tenant's, the rest over 49 tenants; 100 workflows a tenant, a few
 * of them busy (the share of workflow k falls as k³); started over the last 30 days; 90 %
 * completed, 6 % failed, 3 % cancelled, timed out or terminated, 0.5 % waiting (days-old approvals
 * and events), the rest running, and 30 % of the last hour's runs still running; three steps of
 * state each. Seeded, so every run inserts the same rows.
 */
async function seedIndex(pool: Pool, rows: number, now: number): Promise<void> {
  const chunk = 100_000;
  const client = await pool.connect();
  try {
    await client.query('SELECT setseed(0.29)');
    for (let from = 1; from <= rows; from += chunk) {
      await client.query(
        `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, closed_at, close_status,
                           steps, result, record_seq, record_at, source)
         SELECT id, tenant_id, workflow_id, 1, status, started_at, ended_at, ended_at, close_status,
                CASE WHEN status = 'waiting' THEN $6::jsonb ELSE $5::jsonb END,
                CASE WHEN ended_at IS NULL THEN NULL ELSE '{"output":{"status":200,"n":1}}'::jsonb END,
                3, COALESCE(ended_at, started_at), jsonb_build_object('type', source)
           FROM (
             SELECT 'seed-' || lpad(g::text, 8, '0') AS id,
                    CASE WHEN r1 < $7 THEN $8 ELSE 'tenant-' || (1 + (g % 49)) END AS tenant_id,
                    'wf-' || floor(100 * r2 ^ 3)::int AS workflow_id,
                    started_at,
                    CASE WHEN started_at > $3::timestamptz - interval '1 hour' AND r4 < 0.3 THEN 'running'
                         WHEN r4 < 0.90 THEN 'completed' WHEN r4 < 0.96 THEN 'failed'
                         WHEN r4 < 0.975 THEN 'cancelled' WHEN r4 < 0.985 THEN 'timed_out'
                         WHEN r4 < 0.99 THEN 'terminated' WHEN r4 < 0.995 THEN 'waiting' ELSE 'running' END AS status,
                    r5
               FROM (SELECT g, random() AS r1, random() AS r2, $3::timestamptz - random() * $4 * interval '1 day' AS started_at,
                            random() AS r4, random() AS r5
                       FROM generate_series($1::int, $2::int) AS g) AS drawn
           ) AS run,
           LATERAL (SELECT CASE WHEN status IN ('running', 'waiting') THEN NULL
                                ELSE started_at + r5 * interval '2 minutes' END AS ended_at,
                           CASE status WHEN 'completed' THEN 'Completed' WHEN 'failed' THEN 'Failed'
                                WHEN 'cancelled' THEN 'Canceled' WHEN 'timed_out' THEN 'TimedOut'
                                WHEN 'terminated' THEN 'Terminated' END AS close_status,
                           CASE WHEN r5 < 0.7 THEN 'api' WHEN r5 < 0.9 THEN 'webhook'
                                WHEN r5 < 0.98 THEN 'schedule' ELSE 'kafka' END AS source) AS derived`,
        [
          from,
          Math.min(rows, from + chunk - 1),
          new Date(now),
          DAYS,
          JSON.stringify(seedSteps(false)),
          JSON.stringify(seedSteps(true)),
          TENANT_SHARE,
          TENANT,
        ],
      );
      process.stdout.write(`index: ${Math.min(rows, from + chunk - 1)} rows\n`);
    }
    await client.query('VACUUM ANALYZE runs');
  } finally {
    client.release();
  }
}

/** A run's steps as the index holds them: trigger → http → transform, or waiting on an event. */
function seedSteps(waiting: boolean) {
  const at = '2026-11-20T10:00:00.000Z';
  const step = (id: string, type: string, output: unknown) => ({
    id,
    type,
    status: 'completed',
    attempts: 1,
    executions: 1,
    startedAt: at,
    endedAt: at,
    output,
    error: null,
  });
  if (waiting)
    return [
      step('before', 'transform', { order: 'A-1042', total: 129.5 }),
      { ...step('paid', 'wait_for_event', null), status: 'waiting', endedAt: null },
    ];
  return [
    step('before', 'transform', { order: 'A-1042', total: 129.5, lines: 3 }),
    step('call', 'http', {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { id: 'x-1', ok: true },
    }),
    step('after', 'transform', { status: 200, order: 'A-1042' }),
  ];
}

/** A list page to time: its query, and where a deep cursor points (a start time well into the matches). */
interface PageKind {
  name: string;
  filter: RunFilter;
  deepAt?: Date;
}

function pageKinds(now: number): PageKind[] {
  const dayAgo = new Date(now - DAY_MS);
  const windowFrom = new Date(now - 11 * DAY_MS);
  const windowTo = new Date(now - 10 * DAY_MS);
  const deep = new Date(now - 27 * DAY_MS);
  return [
    { name: 'default', filter: {}, deepAt: deep },
    { name: 'status=failed', filter: { status: 'failed' }, deepAt: deep },
    { name: 'status=running', filter: { status: 'running' }, deepAt: deep },
    { name: 'status=waiting', filter: { status: 'waiting' }, deepAt: deep },
    { name: 'workflowId (busiest)', filter: { workflowId: 'wf-0' }, deepAt: deep },
    { name: 'workflowId (quiet)', filter: { workflowId: 'wf-90' }, deepAt: deep },
    { name: 'workflowId + status=failed', filter: { workflowId: 'wf-3', status: 'failed' }, deepAt: deep },
    { name: 'since (last 24 h)', filter: { since: dayAgo }, deepAt: new Date(now - DAY_MS + 3_600_000) },
    {
      name: 'since + until (one day, 10 days ago)',
      filter: { since: windowFrom, until: windowTo },
      deepAt: new Date(windowFrom.getTime() + 3_600_000),
    },
    {
      name: 'status=failed, since + until',
      filter: { status: 'failed', since: windowFrom, until: windowTo },
      deepAt: new Date(windowFrom.getTime() + 3_600_000),
    },
    { name: 'source=webhook', filter: { source: 'webhook' }, deepAt: deep },
  ];
}

const queryString = (filter: RunFilter, cursor?: string) => {
  const params = new URLSearchParams();
  if (filter.workflowId) params.set('workflowId', filter.workflowId);
  if (filter.status) params.set('status', filter.status);
  if (filter.since) params.set('since', filter.since.toISOString());
  if (filter.until) params.set('until', filter.until.toISOString());
  if (filter.source) params.set('source', filter.source);
  if (cursor) params.set('cursor', cursor);
  return params.toString();
};

/** Times one list page through the API process, and reads PostgreSQL's plan and time for its statement. */
async function timePage(
  pool: Pool,
  api: ApiProcess,
  name: string,
  filter: RunFilter,
  cursor?: string,
): Promise<PageFigure> {
  const query = queryString(filter, cursor);
  const path = `/v1/runs${query ? `?${query}` : ''}`;
  let items = 0;
  for (let i = 0; i < 20; i++) await api.call('GET', path);
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const page = JSON.parse(await api.call('GET', path)) as { items: unknown[] };
    samples.push(performance.now() - t);
    items = page.items.length;
  }
  const plan = await explainList(pool, filter, cursor);
  const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
  return { name, query, items, latencyMs: percentiles(samples), executionMs, plan };
}

/** The plan PostgreSQL runs the API's own list statement with (the run index's repository, unchanged). */
async function explainList(pool: Pool, filter: RunFilter, cursor?: string): Promise<string> {
  let plan = '';
  const explaining = {
    query: async (text: string, params: unknown[]) => {
      const res = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
      plan = res.rows.map((r) => r['QUERY PLAN']).join('\n');
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Pool;
  await createRunsRepo(explaining).list(TENANT, filter, { cursor, limit: 50 });
  return plan;
}

/** The reconciler's look for closes Temporal has not confirmed, run every pass. */
async function explainUnconfirmed(pool: Pool): Promise<string> {
  let plan = '';
  const explaining = {
    query: async (text: string, params: unknown[]) => {
      const res = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
      plan = res.rows.map((r) => r['QUERY PLAN']).join('\n');
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Pool;
  await createRunClosuresRepo(explaining).unconfirmed(100);
  return plan;
}

async function listPages(infra: Infra, api: ApiProcess, kinds: PageKind[]): Promise<PageFigure[]> {
  const figures: PageFigure[] = [];
  for (const kind of kinds) {
    figures.push(await timePage(infra.pool, api, `${kind.name}: first page`, kind.filter));
    if (kind.deepAt)
      figures.push(
        await timePage(infra.pool, api, `${kind.name}: deep page`, kind.filter, encodeCursor(kind.deepAt, '~')),
      );
  }
  return figures;
}

async function indexPart(infra: Infra, api: ApiProcess, now: number) {
  const t = performance.now();
  await seedIndex(infra.pool, ROWS, now);
  const seedSeconds = round((performance.now() - t) / 1000);
  const pages = await listPages(infra, api, pageKinds(now));
  // What the index costs PostgreSQL while nothing runs (the reconciler's statements every 2 s), all
  // its processes counted: a parallel query's workers are not the application's backends.
  const idleFrom = await cpuMs(infra.postmasterPid);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idleCpuPercent = round(((await cpuMs(infra.postmasterPid)) - idleFrom) / (IDLE_MS / 100));
  return {
    rows: ROWS,
    requests: REQUESTS,
    tenantRows: await countRuns(infra.pool),
    seedSeconds,
    pages,
    idle: {
      seconds: IDLE_MS / 1000,
      postgresCpuPercent: idleCpuPercent,
      unconfirmedPlan: await explainUnconfirmed(infra.pool),
    },
    memory: await indexMemory(infra, api),
  };
}

async function countRuns(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM runs WHERE tenant_id = $1', [TENANT]);
  return Number(rows[0]?.n ?? 0);
}

/** The API process's resident memory, and the run index's table and indexes on disk. */
async function indexMemory(infra: Infra, api: ApiProcess) {
  const { rows } = await infra.pool.query<{ table: string; indexes: string }>(
    `SELECT pg_table_size('runs') AS table, pg_indexes_size('runs') AS indexes`,
  );
  const mb = (bytes: string | undefined) => Math.round(Number(bytes ?? 0) / 1_048_576);
  return { apiRssMb: await rssMb(api.child.pid ?? 0), tableMb: mb(rows[0]?.table), indexesMb: mb(rows[0]?.indexes) };
}

// ---------------------------------------------------------------------------------------------
// A foreach of ITEMS items.

const runInput = (workflowId: string, definition: Definition, trigger: unknown): RunInput => ({
  ...stampRun(undefined),
  tenantId: TENANT,
  workflowId,
  version: 1,
  definition,
  trigger,
});

/** Samples a process's resident memory every 250 ms until stopped; the peak and the last reading. */
function rssSampler(pid: number) {
  let peak = 0;
  let last = 0;
  const read = async () => {
    last = await rssMb(pid).catch(() => last);
    peak = Math.max(peak, last);
  };
  const timer = setInterval(() => void read(), 250);
  return {
    async stop() {
      clearInterval(timer);
      await read();
      return { peakMb: peak, lastMb: last };
    },
  };
}

async function foreachPart(infra: Infra, worker: ChildProcess) {
  const definition: Definition = {
    name: 'bench: foreach at scale',
    steps: [
      {
        id: 'each',
        type: 'foreach',
        items: `[1..${ITEMS}]`,
        concurrency: 50,
        steps: [{ id: 'double', type: 'transform', config: { expression: 'item * 2' } }],
      },
    ],
  };
  const runId = `scale-foreach-${Date.now().toString(36)}`;
  const rssBefore = await rssMb(worker.pid ?? 0);
  const rss = rssSampler(worker.pid ?? 0);
  const t = performance.now();
  const result = await infra.client.workflow.execute('interpreter', {
    taskQueue: TASK_QUEUE,
    workflowId: runId,
    args: [runInput('scale-foreach', definition, {})],
  });
  const seconds = round((performance.now() - t) / 1000);
  const memory = await rss.stop();
  const output = (result as RunResult).output;
  if (!Array.isArray(output) || output.length !== ITEMS || output[ITEMS - 1] !== ITEMS * 2)
    throw new Error(`the foreach gave ${JSON.stringify(output)?.slice(0, 200)}, not ${ITEMS} doubled items`);
  // Every execution of the run: the run itself and each batch child.
  const batches = Math.ceil(ITEMS / 1000);
  const parent = await historyOf(infra, runId);
  let largestBatch = { events: 0, bytes: 0 };
  for (let k = 0; k < batches; k++) {
    const h = await historyOf(infra, `${runId}:each:batch-${k}`);
    if (h.bytes > largestBatch.bytes) largestBatch = h;
  }
  return {
    items: ITEMS,
    batches,
    seconds,
    itemsPerSecond: Math.round(ITEMS / seconds),
    history: { parent, largestBatch },
    workerRssMb: { before: rssBefore, peak: memory.peakMb, after: memory.lastMb },
  };
}

/** A run's event count and size (the encoded history, as the server bounds it). */
async function historyOf(infra: Infra, workflowId: string): Promise<{ events: number; bytes: number }> {
  const history = await infra.client.workflow.getHandle(workflowId).fetchHistory();
  return {
    events: history.events?.length ?? 0,
    bytes: proto.temporal.api.history.v1.History.encode(history).finish().byteLength,
  };
}

// ---------------------------------------------------------------------------------------------
// PARKED runs waiting on an event.

async function parkedPart(infra: Infra, api: ApiProcess, worker: ChildProcess, now: number) {
  const definition: Definition = {
    name: 'bench: parked on an event',
    steps: [
      { id: 'before', type: 'transform', config: { expression: '{ "order": trigger.n }' } },
      { id: 'paid', type: 'wait_for_event', config: { name: 'paid' } },
    ],
  };
  const tag = Date.now().toString(36);
  const rssBefore = await rssMb(worker.pid ?? 0);
  const rss = rssSampler(worker.pid ?? 0);
  const started = await throughput(PARKED, IN_FLIGHT, (i) =>
    infra.client.workflow.start('interpreter', {
      taskQueue: TASK_QUEUE,
      workflowId: `parked-${tag}-${i}`,
      args: [runInput('parked', definition, { n: i })],
    }),
  );
  // Every run has reached its wait and says so in the index.
  const reached = performance.now();
  await waitFor(
    `${PARKED} runs waiting in the index`,
    async () => {
      const { rows } = await infra.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM runs WHERE tenant_id = $1 AND id LIKE $2 AND status = 'waiting'`,
        [TENANT, `parked-${tag}-%`],
      );
      return Number(rows[0]?.n ?? 0) >= PARKED ? true : undefined;
    },
    60 * 60_000,
  );
  const settleSeconds = round((performance.now() - reached) / 1000);
  // Some time for the worker to let go of what it no longer needs.
  await new Promise((r) => setTimeout(r, 10_000));
  const memory = await rss.stop();
  const day = new Date(now - DAY_MS);
  const pages = await listPages(infra, api, [
    { name: 'default', filter: {} },
    { name: 'status=waiting', filter: { status: 'waiting' }, deepAt: new Date(now - 27 * DAY_MS) },
    { name: 'workflowId (the parked runs)', filter: { workflowId: 'parked' } },
    { name: 'workflowId + status=waiting', filter: { workflowId: 'parked', status: 'waiting' } },
    { name: 'since (last 24 h)', filter: { since: day } },
  ]);
  return {
    parked: PARKED,
    requests: REQUESTS,
    startsPerSecond: started.perSecond,
    settleSeconds,
    indexRows: await countRuns(infra.pool),
    workerRssMb: { before: rssBefore, peak: memory.peakMb, after: memory.lastMb },
    pages,
  };
}

// ---------------------------------------------------------------------------------------------

const round = (n: number) => Math.round(n * 100) / 100;
const thousands = (n: number) => n.toLocaleString('en-US');

function pageTable(pages: PageFigure[]): string[] {
  return [
    '| page | items | p50 ms | p95 ms | p99 ms | PostgreSQL ms |',
    '|---|---|---|---|---|---|',
    ...pages.map(
      (p) =>
        `| ${p.name} | ${p.items} | ${p.latencyMs.p50} | ${p.latencyMs.p95} | ${p.latencyMs.p99} | ${p.executionMs} |`,
    ),
  ];
}

function markdown(r: Results): string {
  const out: string[] = ['# 100× the data'];
  if (r.index) {
    const { index } = r;
    out.push(
      '',
      `## Run index: ${thousands(index.rows)} rows (${thousands(index.tenantRows)} of the listed tenant)`,
      '',
      `\`GET /v1/runs\` through the API process (JWT on), ${index.requests} requests a page one after another, 50 items a page; "PostgreSQL ms" is EXPLAIN ANALYZE of the API's own statement. Inserted in ${index.seedSeconds} s; table ${index.memory.tableMb} MB, indexes ${index.memory.indexesMb} MB; API process RSS ${index.memory.apiRssMb} MB after the pages.`,
      '',
      ...pageTable(index.pages),
      '',
      `Idle for ${index.idle.seconds} s after the pages, PostgreSQL (all its processes; it holds only the application's database here) used ${index.idle.postgresCpuPercent} % of a core (the worker's reconciler, every 2 s). Its look for closes Temporal has not confirmed:`,
      '',
      '```',
      index.idle.unconfirmedPlan,
      '```',
    );
  }
  if (r.foreach) {
    const f = r.foreach;
    out.push(
      '',
      `## A foreach of ${thousands(f.items)} items (concurrency 50, ${f.batches} batch children of 1,000)`,
      '',
      '| figure | value |',
      '|---|---|',
      `| wall time, start to result | ${f.seconds} s (${thousands(f.itemsPerSecond)} items/s) |`,
      `| history of the run: events / bytes | ${f.history.parent.events} / ${thousands(f.history.parent.bytes)} |`,
      `| largest batch history: events / bytes | ${f.history.largestBatch.events} / ${thousands(f.history.largestBatch.bytes)} |`,
      `| worker RSS before / peak / after | ${f.workerRssMb.before} / ${f.workerRssMb.peak} / ${f.workerRssMb.after} MB |`,
    );
  }
  if (r.parked) {
    const p = r.parked;
    out.push(
      '',
      `## ${thousands(p.parked)} runs parked on an event`,
      '',
      `Started at ${p.startsPerSecond} runs/s; all waiting in the index ${p.settleSeconds} s after the last start; worker RSS ${p.workerRssMb.before} MB before, ${p.workerRssMb.peak} MB at the peak, ${p.workerRssMb.after} MB after (cache of 1,000 workflows). List pages (${p.requests} requests each) with the parked runs in an index of ${thousands(p.indexRows)} rows of the tenant:`,
      '',
      ...pageTable(p.pages),
    );
  }
  const plans = [...(r.index?.pages ?? []), ...(r.parked?.pages ?? [])];
  if (plans.length > 0)
    out.push(
      '',
      '## Plans',
      '',
      ...plans.flatMap((p) => [`### ${p.name}`, '', `\`?${p.query}\``, '', '```', p.plan, '```', '']),
    );
  return out.join('\n');
}

import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { Pool as UndiciPool } from 'undici';
import { bootstrap } from '../src/bootstrap.js';
import type { Definition } from '../src/definitions/schema.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { loadConfig } from '../src/shared/config.js';
import { createLogger } from '../src/shared/logger.js';
import { SHARED_WORKFLOW_MODULES } from '../src/worker/bundle.js';
import { mintToken } from '../src/shared/tokens.js';
import { devServerSearchAttributeArgs } from '../src/workflows/search-attributes.js';
import { devServerScheduleArgs } from '../src/triggers/schedule/temporal-schedules.js';
import { DEV_SERVER_SQLITE_ARGS } from '../src/main/dev/temporal.js';
import { freePort, waitFor } from '../test/helpers/ports.js';
import { toolPaths } from '../test/helpers/stack.js';

export const logger = createLogger('warn', 'bench');

/** The benchmarked job: trigger → transform → http POST to `url` → transform. */
export const threeStepJob = (url: string): Definition => ({
  name: 'bench: transform → http → transform',
  steps: [
    { id: 'before', type: 'transform', config: { expression: '{ "n": trigger.n * 2 }' } },
    { id: 'call', type: 'http', config: { method: 'POST', url, body: '{{ steps.before.output }}' } },
    {
      id: 'after',
      type: 'transform',
      config: { expression: '{ "status": steps.call.output.status, "n": trigger.n }' },
    },
  ],
});

let built: Promise<unknown> | undefined;

/**
 * The path of an entry point (e.g. `src/main/api`) in the compiled build, which the benchmarks
 * run as production does (`node dist/…`, Dockerfile): `npm run build` once per benchmark run.
 */
export async function compiledEntry(entry: string): Promise<string> {
  built ??= promisify(execFile)('npm', ['run', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
  await built;
  return fileURLToPath(new URL(`../dist/${entry}.js`, import.meta.url));
}
export const TASK_QUEUE = 'bench';
/** The task queue of the API process's own worker. */
export const API_TASK_QUEUE = 'bench-api';

/**
 * A file-backed Temporal dev server (as `npm run dev` runs it), an embedded PostgreSQL, and the
 * benchmark's own process wired through `bootstrap` like every entry point: its pool (migrated)
 * and a Temporal client with the engine's codecs, as the API starts runs. It runs no API and no
 * worker: those run as their own processes (`startApiProcess`, `startWorkerProcess`).
 */
export async function startInfra() {
  const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-bench-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const server = spawn(
    toolPaths().temporal,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--db-filename',
      join(dir, 'temporal.db'),
      ...DEV_SERVER_SQLITE_ARGS,
      '--log-level',
      'error',
      ...devServerSearchAttributeArgs(),
      ...devServerScheduleArgs(),
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    'Temporal',
    async () => {
      const c = await Connection.connect({ address, connectTimeout: 500 });
      await c.close();
      return true;
    },
    60_000,
  );
  const db = await startEmbeddedPostgres(join(dir, 'pg'), await freePort(), logger);
  return engineOn({
    dir,
    address,
    databaseUrl: db.url,
    serverPid: server.pid ?? 0,
    postgresDir: join(dir, 'pg'),
    async stop() {
      await db.stop();
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGKILL');
        await once(server, 'exit');
      }
    },
  });
}

/**
 * The benchmark's side of a running Temporal server and PostgreSQL (started by the caller, stopped
 * by `base.stop`): its bootstrapped pool and client, the worker bundle, and the processes to
 * account CPU to. `stop` ends it all and removes `base.dir`.
 */
export async function engineOn(base: {
  dir: string;
  address: string;
  databaseUrl: string;
  /** The Temporal server's process. */
  serverPid: number;
  /** PostgreSQL's data directory (its postmaster.pid names the postmaster). */
  postgresDir: string;
  stop(): Promise<void>;
}) {
  const { dir, address } = base;
  try {
    const config = loadConfig({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      DATABASE_URL: base.databaseUrl,
    });
    const engine = await bootstrap(config, { logger, service: 'mini-zaps-bench' });
    // The workers run a prebuilt bundle of the engine's workflows and the baselines.
    const { code } = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
      logger: new DefaultLogger('WARN'),
      preloadModules: SHARED_WORKFLOW_MODULES,
    });
    const bundlePath = join(dir, 'workflow-bundle.js');
    await writeFile(bundlePath, code);
    const postmasterPid = Number((await readFile(join(base.postgresDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return {
      address,
      bundlePath,
      databaseUrl: base.databaseUrl,
      pool: engine.pool,
      client: engine.temporal,
      serverPid: base.serverPid,
      postmasterPid,
      async stop() {
        await engine.stop();
        await base.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await base.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export type Infra = Awaited<ReturnType<typeof engineOn>>;

export interface ApiProcess {
  child: ChildProcess;
  /** Calls the API as tenant `bench` with an admin token; the body of a 2xx answer, else throws. */
  call(method: string, path: string, body?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The API as its own process, as deployed: JWT authentication on, rate limits high enough not to
 * bite. With `worker`, it also runs a worker (API_WORKER=true) on API_TASK_QUEUE with the bench
 * bundle, and the runs it triggers start eagerly on it; without, they go to `taskQueue` (TASK_QUEUE).
 */
export async function startApiProcess(
  infra: Infra,
  opts: { worker: boolean; taskQueue?: string; nodeArgs?: string[] },
): Promise<ApiProcess> {
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  const main = await compiledEntry('src/main/api');
  const worker = opts.worker
    ? {
        TEMPORAL_TASK_QUEUE: API_TASK_QUEUE,
        API_WORKER: 'true',
        WORKFLOW_BUNDLE_PATH: infra.bundlePath,
        HTTP_ALLOWLIST: '127.0.0.1',
      }
    : { TEMPORAL_TASK_QUEUE: opts.taskQueue ?? TASK_QUEUE };
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), main], {
    env: {
      ...process.env,
      ...worker,
      TEMPORAL_ADDRESS: infra.address,
      DATABASE_URL: infra.databaseUrl,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      LOG_LEVEL: process.env.BENCH_API_LOG ?? 'info',
      AUTH_MODE: 'hs256',
      AUTH_HS256_SECRET: secret,
      RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_TENANT_PER_MINUTE: '1000000',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the API', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 60_000);
  const http = new UndiciPool(url, { connections: 64 });
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${await mintToken(secret, { tenant: 'bench', scopes: ['admin'] })}`,
  };
  return {
    child,
    async call(method, path, body) {
      const res = await http.request({ method: method as 'GET', path, headers, body });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
      return text;
    },
    async close() {
      await http.close();
      await stopWorkerProcesses([child]);
    },
  };
}

/**
 * A worker as its own process, as deployed, running the bench bundle (the engine's workflows and
 * the baselines) with the engine's activities; resolves once it is up.
 */
export async function startWorkerProcess(infra: Infra): Promise<ChildProcess> {
  const child = spawn(process.execPath, [await compiledEntry('src/main/worker')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: infra.address,
      DATABASE_URL: infra.databaseUrl,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      WORKFLOW_BUNDLE_PATH: infra.bundlePath,
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      HTTP_ALLOWLIST: '127.0.0.1',
      AUTH_MODE: 'off',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-10_000);
  });
  await waitFor(
    'the worker',
    async () => {
      if (child.exitCode !== null) throw new Error(`the worker exited: ${out}`);
      return out.includes('worker started') ? true : undefined;
    },
    60_000,
  );
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  return child;
}

/** Stops worker processes gracefully. */
export async function stopWorkerProcesses(children: ChildProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
}

/** Resident memory of a process, in MB. */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** Kernel clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat's times on Linux. */
const TICKS_PER_SECOND = 100;

/** A process's own CPU time and that of its reaped children so far, in ms; 0 once it is gone. */
async function ownCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields from the 3rd (state) on: the command name before them may hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i] ?? 0), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** CPU time (user + system, ms) of each thread of a process so far, summed by thread name (its `comm`; the main thread apart). */
export async function threadCpuMs(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(') '));
    const name = tid === String(pid) ? `${comm} (main thread)` : comm;
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const ms = ((Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 1000) / TICKS_PER_SECOND;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  return byName;
}

/** A process and all its descendants. */
export async function processTree(pid: number): Promise<number[]> {
  const children = await Promise.all((await childrenOf(pid)).map(processTree));
  return [pid, ...children.flat()];
}

/** Pins processes, every thread, to the CPUs in `cpus` (taskset's list, e.g. "0" or "0-1"); what they fork later inherits it. */
export async function pinToCpus(pids: number[], cpus: string): Promise<void> {
  for (const pid of pids) await promisify(execFile)('taskset', ['-a', '-cp', cpus, String(pid)]).catch(() => undefined);
}

async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const lists = await Promise.all(
    tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((l) => l.split(' ').filter(Boolean).map(Number));
}

/**
 * CPU time (user + system) a process and all its descendants used so far, in ms. A child that ends
 * between two readings moves from its own counters to its parent's reaped-children counters, so
 * the difference of two readings stays whole.
 */
export async function cpuMs(pid: number): Promise<number> {
  const own = await ownCpuMs(pid);
  const children = await Promise.all((await childrenOf(pid)).map(cpuMs));
  return children.reduce((n, c) => n + c, own);
}

/**
 * PostgreSQL's CPU time, in ms, as two readers: `app`, the backends serving the application's
 * database (the run index, claim checks), and `rest`, everything else (Temporal's databases when it
 * persists here, background writers). An app backend that ends (a pool closing an idle connection)
 * keeps counting its last reading to `app`, so neither reader runs backwards.
 */
export function postgresCpu(
  postmasterPid: number,
  appDatabase = 'minizaps',
): { app: () => Promise<number>; rest: () => Promise<number> } {
  // Keyed by pid and start time, as pids are reused.
  const appBackends = new Map<string, number>();
  const read = async () => {
    const total = await cpuMs(postmasterPid);
    for (const pid of await childrenOf(postmasterPid)) {
      // A backend's title: "postgres: <user> <database> <host>(<port>) <activity>".
      const title = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split(' ');
      if (title[0] !== 'postgres:' || title[2] !== appDatabase) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const startTime = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
      appBackends.set(`${pid}@${startTime}`, await cpuMs(pid));
    }
    const app = [...appBackends.values()].reduce((n, ms) => n + ms, 0);
    return { app, rest: total - app };
  };
  return { app: async () => (await read()).app, rest: async () => (await read()).rest };
}

/** This process's own CPU time so far, in ms. */
export const selfCpuMs = async (): Promise<number> => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Named readers of CPU time in ms (a process kind each), compared before and after a batch. */
export type CpuProbe = Record<string, () => Promise<number>>;

/** Reads every probe at once. */
export async function readCpu(probe: CpuProbe): Promise<Record<string, number>> {
  const entries = await Promise.all(Object.entries(probe).map(async ([k, read]) => [k, await read()] as const));
  return Object.fromEntries(entries);
}

/** CPU ms per run of each probe between two readings, rounded to 0.1 ms. */
export function cpuPerRun(
  before: Record<string, number>,
  after: Record<string, number>,
  runs: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, Math.round(((after[k]! - (before[k] ?? 0)) / runs) * 10) / 10]),
  );
}

export interface Throughput {
  runs: number;
  seconds: number;
  perSecond: number;
  latencyMs: Percentiles;
  /** Every run's latency, so rounds can be pooled. */
  samplesMs: number[];
}
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Runs `total` executions with at most `inFlight` at once; each `run` resolves when its run completed. */
export async function throughput(
  total: number,
  inFlight: number,
  run: (i: number) => Promise<unknown>,
): Promise<Throughput> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = performance.now();
        await run(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    runs: total,
    seconds: Math.round(seconds * 100) / 100,
    perSecond: Math.round((total / seconds) * 10) / 10,
    latencyMs: percentiles(latencies),
    samplesMs: latencies,
  };
}

export async function writeResults(name: string, data: unknown, markdown: string): Promise<void> {
  await writeFile(new URL(`./results/${name}.json`, import.meta.url), `${JSON.stringify(data, null, 2)}\n`);
  await writeFile(new URL(`./results/${name}.md`, import.meta.url), `${markdown}\n`);
  process.stdout.write(`${markdown}\n\n`);
}

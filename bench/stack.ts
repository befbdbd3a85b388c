// How a benchmark starts its stack, written once for every benchmark: its options (environment
// variables and the benchmarks named on the command line), the Temporal server (the file-backed dev
// server, or the real one on PostgreSQL), PostgreSQL, the worker and API processes (the compiled
// build, as deployed), the receiver the http steps call, and the `split` layout of the cores.
// `startStack` puts them together; the parts are exported for a benchmark that needs another shape.
// What a benchmark measures with (CPU from /proc, percentiles, results files) is in harness.ts.
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
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
import { startClusterPostgres } from '../scripts/cluster-postgres.js';
import { freeBase } from '../scripts/cluster-processes.js';
import { buildTemporalServer, startTemporalServer, TEMPORAL_PORT_OFFSETS } from '../scripts/cluster-temporal.js';
import { freePort, waitFor } from '../test/helpers/ports.js';
import { startReceiver } from '../test/helpers/receiver.js';
import { toolPaths } from '../test/helpers/stack.js';
import { processTree } from './harness.js';

const logger = createLogger('warn', 'bench');

// ---- Options -----------------------------------------------------------------------------------

/** The benchmarks named on the command line (`npm run bench -- load cluster`); none: the default set. */
export const namedBenches = (): string[] => process.argv.slice(2);

/** A positive number from the environment variable `name`, else `fallback`; anything else stops the benchmark with its name. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${JSON.stringify(raw)}`);
  return n;
}

/** A comma-separated list of positive numbers from `name` (e.g. BENCH_LOAD_RATES=5,10), else `fallback`. */
export function envNumbers(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.length > 100 || list.some((n) => !Number.isFinite(n) || n <= 0))
    throw new Error(`${name} must be a comma-separated list of positive numbers, not ${JSON.stringify(raw)}`);
  return list;
}

/** Some of `allowed`, comma-separated, from `name` (e.g. BENCH_LOAD_SERVERS=dev), else `fallback`. */
export function envChoices<T extends string>(name: string, allowed: readonly T[], fallback: T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const list = raw.split(',').map((s) => s.trim());
  if (list.length === 0 || list.some((s) => !allowed.includes(s as T)))
    throw new Error(`${name} must be some of ${allowed.join(', ')}, comma-separated, not ${JSON.stringify(raw)}`);
  return list as T[];
}

/** A flag from the environment: set to `1`. */
export const envFlag = (name: string): boolean => process.env[name] === '1';

// ---- Temporal, PostgreSQL, the engine's processes ----------------------------------------------

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
  /** Its base URL, e.g. for webhooks (`/hooks/…`, no token). */
  url: string;
  /** Calls the API as tenant `bench` with an admin token; the body of a 2xx answer, else throws. */
  call(method: string, path: string, body?: string): Promise<string>;
  /** Stores a workflow as tenant `bench`; its id. */
  createWorkflow(definition: Definition): Promise<string>;
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
  const call = async (method: string, path: string, body?: string) => {
    const res = await http.request({ method: method as 'GET', path, headers, body });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return text;
  };
  return {
    child,
    url,
    call,
    async createWorkflow(definition) {
      return (JSON.parse(await call('POST', '/v1/workflows', JSON.stringify(definition))) as { id: string }).id;
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

/** The real Temporal server (v1.32.2, 4 shards, temporal-config/) on its own PostgreSQL, wired for the benchmark. */
export async function startPostgresInfra(): Promise<Infra> {
  const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-bench-cluster-'));
  await chmod(dir, 0o755);
  await buildTemporalServer();
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const pg = await startClusterPostgres(join(dir, 'pg'), await freeBase([0], 45_000, 55_000));
  let temporal: Awaited<ReturnType<typeof startTemporalServer>> | undefined;
  const stop = async () => {
    await temporal?.stop();
    await pg.stop();
  };
  try {
    // Temporal stores membership ports as smallint: the whole range stays below 32768.
    const port = await freeBase(TEMPORAL_PORT_OFFSETS, 20_000, 32_000);
    temporal = await startTemporalServer({ pg, port, namespace: 'default', retention: '1d', logDir });
    return await engineOn({
      dir,
      address: temporal.address,
      databaseUrl: pg.appUrl,
      serverPid: await temporalServerPid(port),
      postgresDir: join(dir, 'pg'),
      stop,
    });
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The temporal-server process serving on `port` (start.sh execs it, in a process group of its own). */
async function temporalServerPid(port: number): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
    if (comm !== 'temporal-server') continue;
    const env = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (env.split('\0').includes(`TEMPORAL_PORT=${port}`)) return Number(entry);
  }
  throw new Error(`no temporal-server process for port ${port}`);
}

// ---- Cores ----------------------------------------------------------------------------------

/**
 * `shared`: every process on every core. `split`: the Temporal server and PostgreSQL on core 0, the
 * API, the workers and the benchmark client on core 1, as in production, where Temporal and its
 * database have machines of their own: the rate is then whichever side saturates first.
 */
export type Cores = 'shared' | 'split';

const ALL_CPUS = `0-${availableParallelism() - 1}`;

/** Pins processes, every thread, to the CPUs in `cpus` (taskset's list, e.g. "0" or "0-1"); what they fork later inherits it. */
export async function pinToCpus(pids: number[], cpus: string): Promise<void> {
  for (const pid of pids) await promisify(execFile)('taskset', ['-a', '-cp', cpus, String(pid)]).catch(() => undefined);
}

/** Lays the processes out on the cores: `engine` (API, workers; this process is added) against the Temporal server and PostgreSQL. */
export async function layOut(infra: Infra, engine: number[], cores: Cores): Promise<void> {
  const ours = [...engine, process.pid];
  const temporal = [infra.serverPid, ...(await processTree(infra.postmasterPid))];
  if (cores === 'split') await Promise.all([pinToCpus(temporal, '0'), pinToCpus(ours, '1')]);
  else await pinToCpus([...temporal, ...ours], ALL_CPUS);
}

/** Gives this process every core again (the servers it pinned stop with their stack). */
export const unpin = (): Promise<void> => pinToCpus([process.pid], ALL_CPUS);

// ---- The whole stack ----------------------------------------------------------------------------

export interface Stack {
  infra: Infra;
  /** The API as deployed, without a worker: its runs go to the worker processes' task queue. */
  api: ApiProcess;
  /** With `apiOwnWorker`: an API process running a worker of its own (API_WORKER=true), its runs started eagerly on it. */
  apiOwnWorker?: ApiProcess;
  workers: ChildProcess[];
  /** The http steps' far side; `url` answers 200 to every POST. */
  receiver: Awaited<ReturnType<typeof startReceiver>>;
  url: string;
  /** Starts worker processes until there are `n`. */
  scaleWorkers(n: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A benchmark's whole stack: the Temporal server (`dev`: file-backed dev server and an embedded
 * PostgreSQL for the run index; `postgres`: the real server on PostgreSQL), `workers` worker
 * processes (default 1), the API process, with `apiOwnWorker` a second one running its own worker,
 * and the receiver. `stop` ends them all, in order, whatever failed.
 */
export async function startStack(opts: {
  server: 'dev' | 'postgres';
  workers?: number;
  apiOwnWorker?: boolean;
}): Promise<Stack> {
  const receiver = await startReceiver();
  receiver.accept('/bench');
  const workers: ChildProcess[] = [];
  const apis: ApiProcess[] = [];
  let infra: Infra | undefined;
  const stop = async () => {
    await Promise.all(apis.map((a) => a.close()));
    await stopWorkerProcesses(workers);
    await receiver.close();
    await infra?.stop();
  };
  try {
    infra = await (opts.server === 'dev' ? startInfra() : startPostgresInfra());
    const started = infra;
    const scaleWorkers = async (n: number) => {
      while (workers.length < n) workers.push(await startWorkerProcess(started));
    };
    await scaleWorkers(opts.workers ?? 1);
    const api = await startApiProcess(infra, { worker: false });
    apis.push(api);
    const apiOwnWorker = opts.apiOwnWorker ? await startApiProcess(infra, { worker: true }) : undefined;
    if (apiOwnWorker) apis.push(apiOwnWorker);
    return { infra, api, apiOwnWorker, workers, receiver, url: `${receiver.url}/bench`, scaleWorkers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

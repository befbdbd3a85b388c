import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { SHARED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../src/worker/bundle.js';
import { startClusterPostgres, type ClusterPostgres } from './cluster-postgres.js';
import { freeBase, portFree, spawnLogged, stopProcess, until } from './cluster-processes.js';
import { startProxy } from './cluster-proxy.js';
import {
  buildTemporalServer,
  startTemporalNodes,
  startTemporalServer,
  TEMPORAL_NODES_PORT_OFFSETS,
  TEMPORAL_PORT_OFFSETS,
  type TemporalNodes,
  type TemporalServer,
} from './cluster-temporal.js';
import { buildTemporalUi, startTemporalUi, type TemporalUi } from './cluster-ui.js';

const ROOT = join(import.meta.dirname, '..');

export interface ClusterOptions {
  dataDir: string;
  apis?: number;
  workers?: number;
  /** Where the load balancer listens; 0: any free port. */
  proxyPort?: number;
  /** Frontend gRPC port of the Temporal server (its frontends' load balancer with `nodes`); 0: a free range. */
  temporalPort?: number;
  /**
   * The Temporal server as a multi-node cluster (2 frontends behind a load balancer, 2 history,
   * 2 matching, 1 internal worker; 16 shards) instead of one process running all four services.
   */
  nodes?: boolean;
  /** Where the Temporal Web UI listens; 0: any free port. */
  uiPort?: number;
  /** Hosts the http connector may reach although private (a local receiver). */
  httpAllowlist?: string;
  logLevel?: string;
}

/** One Node process of the topology (an API or a worker), run from its production entry point. */
export interface Member {
  name: string;
  /** The API's own address, or the worker's /metrics. */
  url: string;
  /** Stops it with `signal` (SIGKILL by default: a crash); SIGTERM drains as in production. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}

export interface Cluster {
  pg: ClusterPostgres;
  temporal: TemporalServer;
  /** The Temporal server's nodes, with `nodes`. */
  temporalNodes?: TemporalNodes;
  ui: TemporalUi;
  redisUrl: string;
  apiUrl: string;
  apis: Member[];
  workers: Member[];
  authSecret: string;
  namespace: string;
  logDir: string;
  stop(): Promise<void>;
}

/**
 * The production topology on one machine: PostgreSQL, the Temporal server on it with its Web UI, Redis, API
 * replicas behind a round-robin proxy and worker replicas. The APIs and workers are
 * `src/main/api.ts` and `src/main/worker.ts` run by tsx with NODE_ENV=production and every setting
 * from the environment, as in the image (which runs the same files compiled), with the workflow
 * bundle prebuilt as there.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const logDir = join(opts.dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  // One after the other: two Go builds at once only compete for the same cores.
  await buildTemporalServer();
  await buildTemporalUi();
  const pg = await startClusterPostgres(join(opts.dataDir, 'pg'), await freeBase([0], 45_000, 55_000));
  const stoppers: (() => Promise<unknown>)[] = [() => pg.stop()];
  try {
    const namespace = 'default';
    // Temporal stores membership ports as smallint: the whole range stays below 32768.
    const temporalPort =
      opts.temporalPort ||
      (opts.nodes
        ? await freeBase(TEMPORAL_NODES_PORT_OFFSETS, 20_000, 24_000)
        : await freeBase(TEMPORAL_PORT_OFFSETS, 20_000, 32_000));
    const server = { pg, port: temporalPort, namespace, retention: '7d', logDir };
    const temporalNodes = opts.nodes ? await startTemporalNodes(server) : undefined;
    const temporal = temporalNodes ?? (await startTemporalServer(server));
    stoppers.unshift(() => temporal.stop());
    const uiPort = opts.uiPort || (await freeBase([0], 33_000, 40_000));
    if (!(await portFree(uiPort))) throw new Error(`port ${uiPort} is taken: set another with --ui-port`);
    const ui = await startTemporalUi({ temporalAddress: temporal.address, namespace, port: uiPort, logDir });
    stoppers.unshift(() => ui.stop());
    const redisPort = await freeBase([0], 40_000, 45_000);
    const redis = await spawnLogged(
      'redis',
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {},
      logDir,
    );
    stoppers.unshift(() => stopProcess(redis));
    const authSecret = await keep(join(opts.dataDir, 'auth-secret'), () => randomBytes(48).toString('base64'));
    await keep(join(opts.dataDir, 'secrets-keys'), () => `k1:${randomBytes(32).toString('base64')}`);
    const bundlePath = join(opts.dataDir, 'workflow-bundle.js');
    await writeFile(
      bundlePath,
      (
        await bundleWorkflowCode({
          workflowsPath: WORKFLOWS_PATH,
          preloadModules: SHARED_WORKFLOW_MODULES,
          logger: quiet,
        })
      ).code,
    );
    // Chosen first: every process builds links (approvals, a failed run's page) to where people reach the APIs.
    const proxyPort = opts.proxyPort || (await freeBase([0], 33_000, 40_000));
    if (!(await portFree(proxyPort))) throw new Error(`port ${proxyPort} is taken: set another with --port`);
    const env = {
      NODE_ENV: 'production',
      PUBLIC_URL: `http://127.0.0.1:${proxyPort}`,
      LOG_LEVEL: opts.logLevel ?? 'warn',
      DATABASE_URL: pg.appUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_UI_URL: ui.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      AUTH_MODE: 'hs256',
      AUTH_HS256_SECRET_FILE: join(opts.dataDir, 'auth-secret'),
      AUTH_AUDIENCE: 'mini-zaps',
      SECRETS_KEYS_FILE: join(opts.dataDir, 'secrets-keys'),
      WORKFLOW_BUNDLE_PATH: bundlePath,
      HTTP_ALLOWLIST: opts.httpAllowlist ?? '',
    };
    const apis: Member[] = [];
    for (let i = 1; i <= (opts.apis ?? 2); i++) {
      const port = await freeBase([0], 33_000, 40_000);
      apis.push(
        member(
          `api-${i}`,
          'src/main/api.ts',
          `http://127.0.0.1:${port}`,
          { ...env, API_PORT: String(port), TRUST_PROXY: 'true', WORKER_METRICS_PORT: '0' },
          logDir,
          readyz,
        ),
      );
    }
    const workers: Member[] = [];
    for (let i = 1; i <= (opts.workers ?? 3); i++) {
      const port = await freeBase([0], 33_000, 40_000);
      workers.push(
        member(
          `worker-${i}`,
          'src/main/worker.ts',
          `http://127.0.0.1:${port}/metrics`,
          { ...env, WORKER_METRICS_PORT: String(port) },
          logDir,
          answers200,
        ),
      );
    }
    const members = [...apis, ...workers];
    stoppers.unshift(() => Promise.all(workers.map((w) => w.kill('SIGTERM'))));
    stoppers.unshift(() => Promise.all(apis.map((a) => a.kill('SIGTERM'))));
    await Promise.all(members.map((m) => m.start()));
    const proxy: Server = await startProxy(
      apis.map((a) => a.url),
      proxyPort,
    );
    stoppers.unshift(() => new Promise((r) => proxy.close(r)));
    return {
      ...{ pg, temporal, temporalNodes, ui, apis, workers, authSecret, namespace, logDir },
      redisUrl: env.REDIS_URL,
      apiUrl: `http://127.0.0.1:${proxyPort}`,
      stop: () => stopAll(stoppers),
    };
  } catch (err) {
    await stopAll(stoppers);
    throw err;
  }
}

async function stopAll(stoppers: (() => Promise<unknown>)[]): Promise<void> {
  // In order: the balancer, the APIs, the workers (they drain), Redis, the Web UI, Temporal, PostgreSQL.
  for (const stop of stoppers.splice(0)) await stop().catch(() => undefined);
}

function member(
  name: string,
  entry: string,
  url: string,
  env: Record<string, string>,
  logDir: string,
  ready: (url: string) => Promise<boolean>,
): Member {
  let child: ChildProcess | undefined;
  return {
    name,
    url,
    async kill(signal = 'SIGKILL') {
      if (child) await stopProcess(child, signal);
    },
    async start() {
      child = await spawnLogged(name, process.execPath, ['--import', 'tsx', join(ROOT, entry)], env, logDir);
      await until(`${name} (see ${join(logDir, `${name}.log`)})`, () => ready(url), 300_000);
    },
  };
}

const readyz = async (url: string) => (await fetch(`${url}/readyz`)).status === 200;
const answers200 = async (url: string) => (await fetch(url)).status === 200;

/** A generated value kept in a file, so a restarted cluster keeps its tokens and secrets valid. */
async function keep(path: string, make: () => string): Promise<string> {
  if (existsSync(path)) return (await readFile(path, 'utf8')).trim();
  const value = make();
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  return value;
}

const quiet = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  log: () => undefined,
};

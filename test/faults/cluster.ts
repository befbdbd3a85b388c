import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { createLogger } from '../../src/shared/logger.js';
import { DevServerStartError, launchTemporalDevServer } from '../../src/main/dev/temporal.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { toolPaths } from '../helpers/stack.js';

const logger = createLogger('silent', 'faults');
const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

/**
 * Every part of the system as its own process, so a fault test can kill or stop any of them and
 * start it again: the Temporal dev server (SQLite file), PostgreSQL (embedded), the worker and the API.
 * `extraEnv` adds to (or overrides) the processes' settings, e.g. KAFKA_BROKERS.
 */
export async function startCluster(extraEnv: () => Record<string, string> = () => ({})) {
  const dir = await mkdtemp(join(tmpdir(), 'mini-zaps-faults-'));
  await chmod(dir, 0o755);
  const [temporalPort, pgPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const temporalAddress = `127.0.0.1:${temporalPort}`;
  let temporal: ChildProcess | undefined;
  let db: EmbeddedDatabase | undefined;
  const processes = new Map<'worker' | 'api', ChildProcess>();
  const outputs = new Map<'worker' | 'api', string>();

  /**
   * Starts the dev server on its port and database file, with `npm run dev`'s launcher (a minute's
   * patience, its log quoted if it fails). It picks ports for its internal services itself, and
   * another process can take one first; then it exits, and it is started again.
   */
  async function startTemporal(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        temporal = await launchTemporalDevServer({
          binary: toolPaths().temporal,
          address: temporalAddress,
          namespace: 'default',
          dbFile: join(dir, 'temporal.db'),
          logFile: join(dir, 'temporal.log'),
          logLevel: 'error',
          extraArgs: [],
        });
        return;
      } catch (err) {
        if (!(err instanceof DevServerStartError && err.exited) || attempt === 3) throw err;
      }
    }
  }
  async function startPostgres(): Promise<EmbeddedDatabase> {
    db = await startEmbeddedPostgres(join(dir, 'pg'), pgPort, logger);
    return db;
  }

  await startTemporal();
  const databaseUrl = (await startPostgres()).url;
  const pool = createPool(databaseUrl, logger);
  await migrate(pool);
  await pool.end();

  const cluster = {
    temporalAddress,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    databaseUrl,
    client: new Client({ connection: await Connection.connect({ address: temporalAddress }) }),
    startTemporal,
    async killTemporal(): Promise<void> {
      await kill(temporal, 'SIGKILL');
    },
    async startPostgres(): Promise<void> {
      await startPostgres();
    },
    async stopPostgres(): Promise<void> {
      await db?.stop();
    },
    /**
     * SIGKILLs the postmaster, as a crash or the OOM killer would, and waits until its backends have
     * noticed and exited too (a new postmaster refuses to start while they hold shared memory).
     * Returns the pid it killed. Start it again with `startPostgres`: it recovers from its WAL.
     */
    async crashPostgres(): Promise<number> {
      const pid = Number((await readFile(join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const backends = childrenOf(pid);
      process.kill(pid, 'SIGKILL');
      await waitFor(
        'the killed postmaster and its backends to exit',
        async () => ([pid, ...backends].every((p) => !alive(p)) ? true : undefined),
        30_000,
      );
      db = undefined;
      return pid;
    },

    env(): Record<string, string> {
      // Rate limits are not what these tests are about: the poller alone makes thousands of calls.
      return {
        RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
        RATE_LIMIT_PER_TENANT_PER_MINUTE: '1000000',
        AUTH_MODE: 'off',
        HTTP_ALLOWLIST: '127.0.0.1',
        WORKER_METRICS_PORT: '0',
        TEMPORAL_ADDRESS: temporalAddress,
        DATABASE_URL: cluster.databaseUrl,
        API_PORT: String(apiPort),
        LOG_LEVEL: 'info',
        TEMPORAL_TASK_QUEUE: 'faults',
        ...extraEnv(),
      };
    },

    /** Starts the worker or the API as a process and waits until it says it is up. */
    async start(kind: 'worker' | 'api'): Promise<void> {
      const child = spawn(process.execPath, ['--import', 'tsx', src(`main/${kind}.ts`)], {
        env: { ...process.env, ...cluster.env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      processes.set(kind, child);
      let out = '';
      const keep = (chunk: Buffer) => {
        out = (out + chunk.toString()).slice(-20_000);
        outputs.set(kind, out);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const ready = kind === 'worker' ? 'worker started' : 'API listening';
      // A generous bound: a busy machine compiles and bundles slowly, and it only matters on failure.
      await waitFor(
        `the ${kind} to start`,
        async () => {
          if (child.exitCode !== null) throw new Error(`the ${kind} exited: ${out.slice(-2000)}`);
          return out.includes(ready) ? true : undefined;
        },
        180_000,
      );
    },
    /** The last 20 KB the worker or API process wrote, to explain a failure. */
    output(kind: 'worker' | 'api'): string {
      return outputs.get(kind) ?? '';
    },
    /** The pid of the worker or API process, and whether it is still running. */
    process(kind: 'worker' | 'api'): { pid: number; alive: boolean } {
      const child = processes.get(kind);
      return { pid: child?.pid ?? 0, alive: !!child && child.exitCode === null && child.signalCode === null };
    },
    /** Signals the process and returns its exit code once it has exited. */
    async kill(kind: 'worker' | 'api', signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
      const child = processes.get(kind);
      await kill(child, signal);
      return child?.exitCode ?? null;
    },

    async stop(): Promise<void> {
      for (const child of processes.values()) await kill(child, 'SIGKILL');
      await cluster.client.connection.close().catch(() => undefined);
      await kill(temporal, 'SIGKILL');
      await db?.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };

  return cluster;
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // The field after the parenthesised command name: state, then the parent pid.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // exited while we looked
      }
    })
    .map(Number);
}

/** Whether a process exists and is not a zombie (an exited process nobody has reaped holds no memory). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

async function kill(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, 'exit');
}

/** Calls the API process over real HTTP; connection errors are answered as status 0. */
export async function api(
  cluster: Cluster,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  try {
    const res = await fetch(`${cluster.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? JSON.parse(text) : undefined,
      contentType: res.headers.get('content-type'),
    };
  } catch {
    return { status: 0, body: undefined, contentType: null };
  }
}

/** Polls the API until every run has ended; returns the runs. */
export async function waitForRuns(cluster: Cluster, runIds: string[], timeoutMs = 180_000) {
  const ended = new Map<
    string,
    {
      status: string;
      steps: { id: string; attempts: number; status: string }[];
      result: unknown;
      error: { code: string; message: string } | null;
    }
  >();
  await waitFor(
    `${runIds.length} runs to end`,
    async () => {
      for (const id of runIds) {
        if (ended.has(id)) continue;
        const res = await api(cluster, 'GET', `/v1/runs/${id}`);
        if (['completed', 'failed', 'cancelled', 'timed_out'].includes(res.body?.status)) ended.set(id, res.body);
      }
      return ended.size === runIds.length ? true : undefined;
    },
    timeoutMs,
  ).catch((err: unknown) => {
    const worker = cluster.process('worker');
    const said = worker.alive
      ? ''
      : `; the worker process ${worker.pid} has exited: ${cluster.output('worker').slice(-1500)}`;
    throw new Error(`${String(err)}; ${ended.size} of ${runIds.length} ended${said}`);
  });
  return runIds.map((id) => ended.get(id) ?? { status: 'missing', steps: [], result: null, error: null });
}

/** Writes a line of the fault table (also printed in the test output). */
export function report(scenario: string, counts: Record<string, number | string>): void {
  process.stdout.write(
    `# fault ${scenario}: ${Object.entries(counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}\n`,
  );
}

/** A suite's cluster (worker and API running) and receiver: started before its tests, stopped after. */
export function useCluster(extraEnv?: () => Record<string, string>): {
  readonly cluster: Cluster;
  readonly receiver: Receiver;
} {
  let started: { cluster: Cluster; receiver: Receiver } | undefined;
  before(async () => {
    // One after the other: a port taken while the Temporal dev server picks its own makes it exit.
    const cluster = await startCluster(extraEnv);
    const receiver = await startReceiver();
    started = { cluster, receiver };
    await Promise.all([cluster.start('worker'), cluster.start('api')]);
  });
  after(async () => {
    await started?.cluster.stop();
    await started?.receiver.close();
  });
  const get = () => {
    if (!started) throw new Error('the cluster has not started');
    return started;
  };
  return {
    get cluster() {
      return get().cluster;
    },
    get receiver() {
      return get().receiver;
    },
  };
}

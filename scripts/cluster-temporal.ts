import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { ClusterPostgres } from './cluster-postgres.js';
import { run, spawnLogged, stopProcess, until } from './cluster-processes.js';

const CONFIG_DIR = join(import.meta.dirname, '..', 'temporal-config');

/** The ports server.yaml derives from TEMPORAL_PORT (frontend gRPC). */
export const TEMPORAL_PORT_OFFSETS = [0, 1, 2, 6, 10, 100, 101, 102, 106, 767] as const;

export interface TemporalServer {
  address: string;
  metricsUrl: string;
  /** Stops the server (SIGTERM) and starts it again on the same databases. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds (or reuses) the server in .tools/, prints where it is. */
export const buildTemporalServer = (): Promise<string> => run(join(CONFIG_DIR, 'build.sh'), []);

/**
 * The real Temporal server on the topology's PostgreSQL: schemas created and migrated, server
 * started from temporal-config/server.yaml, namespace and search attributes registered.
 */
export async function startTemporalServer(opts: {
  pg: ClusterPostgres;
  port: number;
  namespace: string;
  retention: string;
  logDir: string;
}): Promise<TemporalServer> {
  const address = `127.0.0.1:${opts.port}`;
  const env = {
    TEMPORAL_DB_HOST: opts.pg.host,
    TEMPORAL_DB_PORT: String(opts.pg.port),
    TEMPORAL_DB_USER: opts.pg.user,
    TEMPORAL_DB_PASSWORD: opts.pg.password,
    TEMPORAL_PORT: String(opts.port),
    TEMPORAL_BIND_IP: '127.0.0.1',
  };
  await run(join(CONFIG_DIR, 'setup-schema.sh'), [], env);
  let child: ChildProcess | undefined;
  const start = async () => {
    child = await spawnLogged('temporal-server', join(CONFIG_DIR, 'start.sh'), [], env, opts.logDir);
    await until(`the Temporal server at ${address}`, () => answers(address), 300_000);
  };
  try {
    await start();
    await run(join(CONFIG_DIR, 'register.sh'), [], {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: opts.namespace,
      TEMPORAL_RETENTION: opts.retention,
    });
  } catch (err) {
    if (child) await stopProcess(child);
    throw err;
  }
  return {
    address,
    metricsUrl: `http://127.0.0.1:${opts.port + 767}/metrics`,
    async restart() {
      if (child) await stopProcess(child);
      await start();
    },
    async stop() {
      if (child) await stopProcess(child);
    },
  };
}

async function answers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

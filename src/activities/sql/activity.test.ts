import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { connectorRunner, failureOf } from '../../../test/helpers/connectors.js';
import { freePort } from '../../../test/helpers/ports.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../db/embedded.js';
import { createLogger } from '../../shared/logger.js';
import { sqlConnector } from './definition.js';

describe('the sql connector against the embedded PostgreSQL', () => {
  let dir: string;
  let db: EmbeddedDatabase;
  let run: ReturnType<typeof connectorRunner>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mini-zaps-sql-'));
    await chmod(dir, 0o755);
    const port = await freePort();
    db = await startEmbeddedPostgres(join(dir, 'pg'), port, createLogger('silent', 'test'));
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query('CREATE TABLE accounts (id int PRIMARY KEY, email text, plan text)');
    await admin.query(
      "INSERT INTO accounts SELECT i, 'user' || i || '@example.com', CASE WHEN i % 2 = 0 THEN 'pro' ELSE 'free' END FROM generate_series(1, 50) i",
    );
    await admin.end();
    const { username, password } = new URL(db.url);
    const base = { host: '127.0.0.1', port, database: 'minizaps', user: username };
    run = connectorRunner(sqlConnector, {
      secrets: { db_pw: password, wrong: 'not-the-password' },
      connections: {
        crm: { type: 'postgres', config: { ...base, password: "$secret('db_pw')" } },
        wrong: { type: 'postgres', config: { ...base, password: "$secret('wrong')" } },
        down: { type: 'postgres', config: { ...base, port: await freePort(), password: "$secret('db_pw')" } },
      },
    });
  });
  after(async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a parameterised query and answers {rows, rowCount}', async () => {
    const { output } = await run(
      {
        query: 'SELECT id, plan FROM accounts WHERE email = $1 OR id = $2 ORDER BY id',
        params: ['user4@example.com', 7],
      },
      { connection: 'crm' },
    );
    assert.deepEqual(output, {
      rows: [
        { id: 4, plan: 'pro' },
        { id: 7, plan: 'free' },
      ],
      rowCount: 2,
    });
  });

  it('is read-only by default: a write fails with SQL_READ_ONLY, not retried, and changes nothing; readOnly: false writes', async () => {
    for (const query of [
      "UPDATE accounts SET plan = 'gone' RETURNING id",
      "SELECT 1; UPDATE accounts SET plan = 'gone'",
    ]) {
      const err = await failureOf(run({ query }, { connection: 'crm' }));
      assert.ok(['SQL_READ_ONLY', 'SQL_QUERY_ERROR'].includes(err.type ?? ''), `${query}: ${err.type} ${err.message}`);
      assert.equal(err.nonRetryable, true);
    }
    const { output: untouched } = await run(
      { query: "SELECT count(*)::int AS n FROM accounts WHERE plan = 'gone'" },
      { connection: 'crm' },
    );
    assert.deepEqual(untouched, { rows: [{ n: 0 }], rowCount: 1 });
    const { output } = await run(
      { query: "UPDATE accounts SET plan = 'vip' WHERE id = $1 RETURNING id, plan", params: [1], readOnly: false },
      { connection: 'crm' },
    );
    assert.deepEqual(output, { rows: [{ id: 1, plan: 'vip' }], rowCount: 1 });
  });

  it('more rows than maxRows or more bytes than maxBytes fail the step, not retried', async () => {
    const rows = await failureOf(run({ query: 'SELECT * FROM accounts', maxRows: 10 }, { connection: 'crm' }));
    assert.equal(rows.type, 'SQL_TOO_MANY_ROWS');
    assert.equal(rows.nonRetryable, true);
    const bytes = await failureOf(run({ query: 'SELECT * FROM accounts', maxBytes: 100 }, { connection: 'crm' }));
    assert.equal(bytes.type, 'SQL_RESULT_TOO_LARGE');
    const { output } = await run(
      { query: 'SELECT id FROM accounts ORDER BY id LIMIT 10', maxRows: 10 },
      { connection: 'crm' },
    );
    assert.equal((output as { rowCount: number }).rowCount, 10);
  });

  it('bad credentials fail with SQL_AUTH_FAILED, not retried; a query error is not retried; a server that is down is', async () => {
    const auth = await failureOf(run({ query: 'SELECT 1' }, { connection: 'wrong' }));
    assert.equal(auth.type, 'SQL_AUTH_FAILED');
    assert.equal(auth.nonRetryable, true);
    assert.doesNotMatch(auth.message, /not-the-password/);
    const syntax = await failureOf(run({ query: 'SELEKT 1' }, { connection: 'crm' }));
    assert.equal(syntax.type, 'SQL_QUERY_ERROR');
    assert.equal(syntax.nonRetryable, true);
    const down = await failureOf(run({ query: 'SELECT 1' }, { connection: 'down' }));
    assert.equal(down.type, 'SQL_UNAVAILABLE');
    assert.equal(down.nonRetryable, false);
  });

  it('a query that outlives the step timeout fails with SQL_TIMEOUT and is retried', async () => {
    const err = await failureOf(run({ query: 'SELECT pg_sleep(5)' }, { connection: 'crm', timeoutMs: 500 }));
    assert.equal(err.type, 'SQL_TIMEOUT');
    assert.equal(err.nonRetryable, false);
  });
});

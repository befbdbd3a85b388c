import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { createClaimsRepo } from '../db/claims-repo.js';
import { createRunClosuresRepo } from '../db/run-closures-repo.js';
import { createLogger } from '../shared/logger.js';
import { useMigratedDatabase } from '../../test/helpers/database.js';
import { createRetention, type RetentionSettings } from './retention.js';

const logger = createLogger('silent', 'test');
const database = useMigratedDatabase('retention');

beforeEach(async () => {
  await database.pool.query(
    'TRUNCATE runs, payload_claims, dead_letters, kafka_dead_letters, triggers, workflows, audit_events CASCADE',
  );
});

/** A run in the index, closed `closedDaysAgo` days ago (undefined: still open), with one claim-checked payload. */
async function run(id: string, tenant: string, closedDaysAgo: number | undefined): Promise<void> {
  const closed = closedDaysAgo === undefined ? null : new Date(Date.now() - closedDaysAgo * 86_400_000);
  await database.pool.query(
    `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, closed_at, close_status)
     VALUES ($1, $2, 'wf', 1, $3, now() - interval '400 days', $4, $4, $5)`,
    [id, tenant, closed ? 'completed' : 'running', closed, closed ? 'Completed' : null],
  );
  await createClaimsRepo(database.pool).put(id, `sha-${id}`, new Uint8Array([1, 2, 3]));
}

const remaining = async (table: 'runs' | 'payload_claims') =>
  (
    await database.pool.query<{ id: string }>(
      `SELECT ${table === 'runs' ? 'id' : 'run_id'} AS id FROM ${table} ORDER BY 1`,
    )
  ).rows.map((r) => r.id);

const retention = (settings: RetentionSettings) =>
  createRetention(
    {
      pool: database.pool,
      claims: createClaimsRepo(database.pool),
      closures: createRunClosuresRepo(database.pool),
      logger,
    },
    settings,
  );

test('retention removes closed runs older than the age bound with their claim-checked payloads, and keeps open and younger ones', async () => {
  await run('old', 't1', 40);
  await run('young', 't1', 5);
  await run('open', 't1', undefined);
  const pruned = await retention({ maxAgeDays: 30, maxRunsPerTenant: 0 }).pass();
  assert.deepEqual(pruned, { runs: 1, claims: 1, kafkaDeadLetters: 0, auditEvents: 0 });
  assert.deepEqual(await remaining('runs'), ['open', 'young']);
  assert.deepEqual(await remaining('payload_claims'), ['open', 'young']);
});

test('retention keeps only the newest closed runs of each tenant, counting each tenant apart, in batches', async () => {
  for (let i = 0; i < 7; i++) await run(`a${i}`, 'a', i + 1);
  for (let i = 0; i < 2; i++) await run(`b${i}`, 'b', i + 1);
  await run('a-open', 'a', undefined);
  const pruned = await retention({ maxAgeDays: 0, maxRunsPerTenant: 3, batchSize: 2 }).pass();
  assert.deepEqual(pruned, { runs: 4, claims: 4, kafkaDeadLetters: 0, auditEvents: 0 });
  assert.deepEqual(await remaining('runs'), ['a-open', 'a0', 'a1', 'a2', 'b0', 'b1']);
});

test('retention keeps a run with an open dead letter, which can still be re-driven', async () => {
  await run('parked', 't1', 90);
  await database.pool.query(
    `INSERT INTO dead_letters (id, tenant_id, run_id, execution_id, workflow_id, version, step_id, step_type, error_code, error, attempts, created_at)
     VALUES ('dl1', 't1', 'parked', 'parked', 'wf', 1, 's', 'http', 'HTTP_500', '{}', 3, now())`,
  );
  assert.deepEqual(await retention({ maxAgeDays: 30, maxRunsPerTenant: 1 }).pass(), {
    runs: 0,
    claims: 0,
    kafkaDeadLetters: 0,
    auditEvents: 0,
  });
  assert.deepEqual(await remaining('runs'), ['parked']);
});

/** A Kafka message dead-lettered for trigger `triggerId` of tenant t1, `daysAgo` days ago. */
async function kafkaDeadLetter(triggerId: string, offset: number, daysAgo: number): Promise<void> {
  await database.pool.query(
    `INSERT INTO kafka_dead_letters (tenant_id, id, trigger_id, topic, partition, "offset", key_encoding, reason, error, headers,
       value_encoding, value_bytes, value_truncated, whole, created_at)
     VALUES ('t1', $1, $2, 'events', 0, $3, 'utf8', 'UNDECODABLE', 'not JSON', '{}', 'utf8', 1, false, true, now() - make_interval(days => $4))`,
    [`${triggerId}-${offset}`, triggerId, offset, daysAgo],
  );
}

test('retention removes dead-lettered Kafka messages past the age bound, and beyond the newest of each trigger', async () => {
  await database.pool.query(`INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ('t1', 'wf', 'wf', 1)`);
  for (const id of ['k1', 'k2'])
    await database.pool.query(
      `INSERT INTO triggers (tenant_id, id, workflow_id, type, config) VALUES ('t1', $1, 'wf', 'kafka', '{}')`,
      [id],
    );
  for (let i = 0; i < 4; i++) await kafkaDeadLetter('k1', i, i + 1);
  await kafkaDeadLetter('k1', 9, 45);
  await kafkaDeadLetter('k2', 0, 1);
  const pruned = await retention({ maxAgeDays: 30, maxRunsPerTenant: 2, batchSize: 1 }).pass();
  assert.deepEqual(pruned, { runs: 0, claims: 0, kafkaDeadLetters: 3, auditEvents: 0 });
  const { rows } = await database.pool.query<{ id: string }>('SELECT id FROM kafka_dead_letters ORDER BY id');
  assert.deepEqual(
    rows.map((r) => r.id),
    ['k1-0', 'k1-1', 'k2-0'],
  );
});

test('retention removes audit events past AUDIT_RETENTION_DAYS, in batches, and keeps younger ones', async () => {
  for (const [route, daysAgo] of [
    ['/old-1', 120],
    ['/old-2', 91],
    ['/young', 89],
  ] as const)
    await database.pool.query(
      `INSERT INTO audit_events (at, tenant_id, subject, method, route, status, request_id)
       VALUES (now() - make_interval(days => $1), 't1', 'ann', 'POST', $2, 201, 'r')`,
      [daysAgo, route],
    );
  const pruned = await retention({ maxAgeDays: 0, maxRunsPerTenant: 0, auditMaxAgeDays: 90, batchSize: 1 }).pass();
  assert.deepEqual(pruned, { runs: 0, claims: 0, kafkaDeadLetters: 0, auditEvents: 2 });
  const { rows } = await database.pool.query<{ route: string }>('SELECT route FROM audit_events');
  assert.deepEqual(
    rows.map((r) => r.route),
    ['/young'],
  );
});

// The run index stays fast as it grows: every statement that reads it often (a list page, each of
// its filters, the reconciler's every pass) is answered from an index, never by reading the table
// through. Checked on PostgreSQL's own plans over a seeded index of 50,000 runs;
// `npm run bench -- scale` times them at 1,000,000 (bench/results/scale.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useMigratedDatabase } from '../../test/helpers/database.js';
import { encodeCursor } from './cursor.js';
import { type Pool } from './pool.js';
import { createRunClosuresRepo } from './run-closures-repo.js';
import { createRunsRepo, type RunFilter } from './runs-repo.js';

const ROWS = 50_000;
const DAY_MS = 86_400_000;
const database = useMigratedDatabase('run-plans', async () => {
  // Two tenants, 20 workflows, 30 days; most runs closed, a few running, waiting or awaiting their close.
  await database.pool.query(
    `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, closed_at, steps, source)
     SELECT 'r' || g, CASE WHEN g % 2 = 0 THEN 't1' ELSE 't2' END, 'wf-' || (g % 20), 1,
            CASE WHEN g % 100 = 0 THEN 'running' WHEN g % 100 = 1 THEN 'waiting' WHEN g % 20 = 2 THEN 'failed' ELSE 'completed' END,
            now() - (g * interval '30 days') / $1,
            CASE WHEN g % 100 IN (0, 1) THEN NULL ELSE now() - (g * interval '30 days') / $1 + interval '5 seconds' END,
            CASE WHEN g % 100 IN (0, 1) OR g % 1000 = 3 THEN NULL ELSE now() - (g * interval '30 days') / $1 + interval '5 seconds' END,
            '[{"id":"a","output":{"n":1}}]'::jsonb, jsonb_build_object('type', CASE WHEN g % 5 = 0 THEN 'webhook' ELSE 'api' END)
       FROM generate_series(1, $1) AS g`,
    [ROWS],
  );
  await database.pool.query('VACUUM ANALYZE runs');
});

/** A database.pool that answers every statement with PostgreSQL's plan of it (and no rows). */
function planning(plans: string[]): Pool {
  return {
    query: async (text: string, params: unknown[]) => {
      const res = await database.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params);
      plans.push(res.rows.map((r) => r['QUERY PLAN']).join('\n'));
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Pool;
}

const noSeqScan = (plan: string, what: string) =>
  assert.doesNotMatch(plan, /Seq Scan on runs/, `${what} reads the whole table:\n${plan}`);

test('every list page, with each filter, first and deep, is read from an index', async () => {
  const now = Date.now();
  const deep = encodeCursor(new Date(now - 25 * DAY_MS), '~');
  const filters: RunFilter[] = [
    {},
    { status: 'running' },
    { status: 'waiting' },
    { status: 'failed' },
    { status: 'completed' },
    { workflowId: 'wf-4' },
    { workflowId: 'wf-4', status: 'failed' },
    { since: new Date(now - DAY_MS) },
    { since: new Date(now - 11 * DAY_MS), until: new Date(now - 10 * DAY_MS), status: 'failed' },
    { source: 'webhook' },
    { problem: true },
  ];
  for (const filter of filters)
    for (const cursor of [undefined, deep]) {
      const plans: string[] = [];
      await createRunsRepo(planning(plans)).list('t1', filter, { cursor, limit: 50 });
      noSeqScan(plans[0]!, `the page ${JSON.stringify(filter)}${cursor ? ' (deep)' : ''}`);
      // Running runs are few: a page of them reads only them, not every run started since the cursor.
      if (filter.status === 'running') assert.match(plans[0]!, /runs_tenant_shown_running/);
    }
});

test("the reconciler's look for unconfirmed closes reads only the runs awaiting one", async () => {
  const plans: string[] = [];
  await createRunClosuresRepo(planning(plans)).unconfirmed(100);
  noSeqScan(plans[0]!, 'the look for unconfirmed closes');
  assert.match(plans[0]!, /runs_awaiting_close/);
  // And it still finds them: runs that recorded their end but whose close is not confirmed.
  const found = await createRunClosuresRepo(database.pool).unconfirmed(1000);
  const { rows } = await database.pool.query<{ id: string }>(
    `SELECT id FROM runs WHERE closed_at IS NULL AND ended_at IS NOT NULL AND ended_at > now() - interval '1 day'`,
  );
  assert.ok(rows.length > 0);
  assert.deepEqual(new Set(found), new Set(rows.map((r) => r.id)));
});

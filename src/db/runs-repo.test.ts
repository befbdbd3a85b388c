import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { useMigratedDatabase } from '../../test/helpers/database.js';
import { createRunsRepo, type RunFilter } from './runs-repo.js';

const database = useMigratedDatabase('runs-repo');

beforeEach(async () => {
  await database.pool.query('TRUNCATE runs, dead_letters CASCADE');
});

/** `count` runs of tenant `t1`, one a minute back from now, each holding `stateBytes` of step state. */
async function seed(count: number, stateBytes: number): Promise<void> {
  await database.pool.query(
    `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, closed_at, steps, result)
     SELECT 'r' || lpad(g::text, 6, '0'), 't1', 'wf', 1, 'completed', now() - g * interval '1 minute',
            now() - g * interval '1 minute' + interval '1 second', now() - g * interval '1 minute' + interval '1 second',
            jsonb_build_array(jsonb_build_object('id', 'big', 'output', repeat('x', $2))), to_jsonb(repeat('y', $2))
       FROM generate_series(1, $1) AS g`,
    [count, stateBytes],
  );
}

const allPages = async (filter: RunFilter, limit: number) => {
  const repo = createRunsRepo(database.pool);
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await repo.list('t1', filter, { cursor, limit });
    ids.push(...page.items.map((r) => r.id));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
  throw new Error('more than 100 pages');
};

test('a list page carries summaries, not the step state of its runs', async () => {
  await seed(5, 1_000_000);
  const { rows } = await database.pool.query<{ bytes: number }>('SELECT max(pg_column_size(steps)) AS bytes FROM runs');
  assert.ok(rows[0]!.bytes > 0);
  const page = await createRunsRepo(database.pool).list('t1', {}, { limit: 5 });
  assert.equal(page.items.length, 5);
  for (const item of page.items) {
    assert.deepEqual(
      Object.keys(item).filter((k) => ['steps', 'result', 'error'].includes(k)),
      [],
      'no state in a summary',
    );
    assert.equal(item.status, 'completed');
  }
  // The run itself still has all of it.
  const run = await createRunsRepo(database.pool).get('t1', page.items[0]!.id);
  assert.equal((run.steps as unknown as { output: string }[])[0]!.output.length, 1_000_000);
});

test('keyset pages walk every run once, newest first, with and without filters', async () => {
  await seed(23, 10);
  const expected = Array.from({ length: 23 }, (_, i) => `r${String(i + 1).padStart(6, '0')}`);
  assert.deepEqual(await allPages({}, 5), expected);
  assert.deepEqual(await allPages({ status: 'completed' }, 4), expected);
  assert.deepEqual(await allPages({ workflowId: 'wf' }, 7), expected);
  assert.deepEqual(await allPages({ status: 'running' }, 5), []);
  // Running: those with no end, and those whose own final record is in but Temporal has not closed yet.
  await database.pool.query(
    `UPDATE runs SET status = 'running', ended_at = NULL, closed_at = NULL WHERE id IN ('r000003', 'r000010')`,
  );
  await database.pool.query(`UPDATE runs SET closed_at = NULL WHERE id IN ('r000004', 'r000021')`);
  const running = ['r000003', 'r000004', 'r000010', 'r000021'];
  assert.deepEqual(await allPages({ status: 'running' }, 1), running);
  assert.deepEqual(await allPages({ status: 'running' }, 3), running);
  assert.deepEqual(
    await allPages({ status: 'completed' }, 6),
    expected.filter((id) => !running.includes(id)),
  );
});

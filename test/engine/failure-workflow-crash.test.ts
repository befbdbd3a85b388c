import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';
import { startWorkerProcess, workerReady } from '../helpers/worker-process.js';

describe('failure workflows: a worker killed with SIGKILL while its run starts its failure workflow', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  const suite = useStack({ worker: false });

  it('the failure workflow still starts, once', async () => {
    const first = startWorkerProcess(suite.stack.workerEnv);
    children.push(first);
    await workerReady(first);
    suite.receiver.accept('/failure');
    suite.receiver.on('/down', () => ({ status: 503, body: { error: 'down' } }));
    const notify = await createWorkflow(suite.stack, {
      name: 'notify',
      steps: [
        {
          id: 'post',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/failure`, body: '{{ trigger }}' },
        },
      ],
    });
    const id = await createWorkflow(suite.stack, {
      name: 'fails on cue',
      onFailure: { workflowId: notify },
      steps: [
        { id: 'cue', type: 'wait_for_event', config: { name: 'go' } },
        {
          id: 'fail',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/down` },
          retry: { maxAttempts: 1 },
        },
      ],
    });
    const runId = await trigger(suite.stack, id);
    await waitForStatus(suite.stack, runId, 'waiting');

    // Starting the failure workflow reads the tenant's settings with its version (nothing else of
    // a run in flight does): held locked, the start waits inside its activity, in the database.
    const lock = new pg.Client({ connectionString: suite.stack.config.DATABASE_URL });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE tenant_settings IN ACCESS EXCLUSIVE MODE');
      assert.equal((await suite.stack.call('POST', `/v1/runs/${runId}/events/go`, {})).status, 202);
      await waitFor(
        'the failure start to wait on the lock',
        async () => {
          const { rows } = await suite.stack.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE '%tenant_settings%' AND pid <> $1`,
            [(await lock.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid],
          );
          return Number(rows[0]?.n) > 0 ? true : undefined;
        },
        30_000,
      );
      assert.equal(
        suite.receiver.requestsTo('/failure').length,
        0,
        'the kill lands before the failure workflow started',
      );
      first.kill('SIGKILL');
      await once(first, 'exit');
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
    }

    const second = startWorkerProcess(suite.stack.workerEnv);
    children.push(second);
    await workerReady(second);
    await waitFor('the failure workflow to post', async () => suite.receiver.requestsTo('/failure')[0], 120_000);
    // The run's own history: the start was retried after the kill (its activity attempt > 1), once asked.
    const handle = suite.stack.client.workflow.getHandle(runId);
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startFailureRun',
    );
    assert.equal(scheduled.length, 1);
    const startedAttempt = events.find(
      (e) =>
        e.activityTaskStartedEventAttributes &&
        String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled[0]?.eventId),
    )?.activityTaskStartedEventAttributes?.attempt;
    assert.ok((startedAttempt ?? 0) >= 2, `the start ran again after the kill (attempt ${startedAttempt})`);
    await waitFor(
      'the failure run to be listed',
      async () => {
        const { rows } = await suite.stack.pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM runs WHERE source->>'failedRunId' = $1",
          [runId],
        );
        return Number(rows[0]?.n) > 0 ? Number(rows[0]?.n) : undefined;
      },
      30_000,
    );
    const { rows } = await suite.stack.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM runs WHERE source->>'failedRunId' = $1",
      [runId],
    );
    assert.equal(Number(rows[0]?.n), 1, 'one failure run');
    assert.equal(suite.receiver.requestsTo('/failure').length, 1);
    second.kill('SIGTERM');
    await once(second, 'exit');
  });
});

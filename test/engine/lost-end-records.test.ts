import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Definition } from '../../src/definitions/schema.js';
import { runSearchAttributes } from '../../src/workflows/search-attributes.js';
import { stampRun } from '../../src/workflows/revisions.js';
import type { RunInput } from '../../src/workflows/run-model.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForStatus } from '../helpers/runs.js';
import { useStack } from '../helpers/use-stack.js';

interface Step {
  id: string;
  status: string;
}

describe("the reconciler restores a run's final record the run index lost", () => {
  const logLines: string[] = [];
  const suite = useStack({ logLines });

  before(async () => {
    // The database refuses every run's own final record (an end not yet confirmed by a close), as
    // when it is down the moment a run ends: the worker's sink can only log it.
    await suite.stack.pool.query(`
      CREATE FUNCTION refuse_run_ends() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the run index is down'; END $$;
      CREATE TRIGGER refuse_run_ends BEFORE INSERT OR UPDATE ON runs FOR EACH ROW
        WHEN (NEW.ended_at IS NOT NULL AND NEW.closed_at IS NULL) EXECUTE FUNCTION refuse_run_ends();`);
  });

  /** Whether the worker logged that the run's final record did not reach the index. */
  const endLost = (runId: string) =>
    logLines.some((line) => line.includes('run end not recorded') && line.includes(runId));

  /** The run as the API shows it once the reconciler closed it in the index (it has an end then). */
  const closed = (runId: string) =>
    waitFor(
      `run ${runId} to be closed in the index`,
      async () => {
        const { body } = await suite.stack.call('GET', `/v1/runs/${runId}`);
        return body.endedAt ? body : undefined;
      },
      20_000,
    );

  const closeTime = async (runId: string) =>
    (await suite.stack.client.workflow.getHandle(runId).describe()).closeTime?.toISOString();

  it('shows a completed run whose final record was lost as completed, with its steps and result', async () => {
    suite.receiver.on('/echo', (req) => ({ status: 200, body: { got: req.body ? JSON.parse(req.body) : null } }));
    const id = await createWorkflow(suite.stack, {
      name: 'transform → http → transform',
      steps: [
        { id: 'before', type: 'transform', config: { expression: '{ "n": trigger.n * 2 }' } },
        {
          id: 'call',
          type: 'http',
          config: { method: 'POST', url: `${suite.receiver.url}/echo`, body: '{{ steps.before.output }}' },
        },
        { id: 'after', type: 'transform', config: { expression: '{ "echoed": steps.call.output.body.got.n }' } },
      ],
    });
    const runId = await trigger(suite.stack, id, { n: 21 });
    const run = await closed(runId);
    assert.equal(run.status, 'completed');
    assert.ok(endLost(runId), "the worker logged the run's own final record as not recorded");
    assert.deepEqual(
      run.steps.map((s: Step) => [s.id, s.status]),
      [
        ['before', 'completed'],
        ['call', 'completed'],
        ['after', 'completed'],
      ],
    );
    assert.deepEqual(run.result, { echoed: 42 });
    assert.equal(run.error, null);
    assert.equal(run.endedAt, await closeTime(runId), 'ended when Temporal closed it');
  });

  it('shows a failed run whose final record was lost as failed, with its steps and error', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'refuses',
      steps: [
        { id: 'look', type: 'transform', config: { expression: 'trigger.why' } },
        { id: 'stop', type: 'fail', config: { error: 'REFUSED', message: 'refused: {{ steps.look.output }}' } },
      ],
    });
    const runId = await trigger(suite.stack, id, { why: 'no' });
    const run = await closed(runId);
    assert.equal(run.status, 'failed');
    assert.ok(endLost(runId), "the worker logged the run's own final record as not recorded");
    assert.deepEqual(
      run.steps.map((s: Step) => [s.id, s.status]),
      [
        ['look', 'completed'],
        // A fail step completes; it is the run that fails.
        ['stop', 'completed'],
      ],
    );
    assert.deepEqual([run.error?.code, run.error?.message], ['REFUSED', 'refused: no']);
    assert.equal(run.result, null);
    assert.equal(run.endedAt, await closeTime(runId), 'ended when Temporal closed it');
  });

  it('shows a cancelled run whose final record was lost as cancelled, with its step cancelled', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'sleeper',
      steps: [{ id: 'nap', type: 'delay', config: { duration: '1h' } }],
    });
    const runId = await trigger(suite.stack, id);
    // Its progress record (waiting, the step waiting) reaches the index; only the end is refused.
    await waitForStatus(suite.stack, runId, 'waiting');
    assert.equal((await suite.stack.call('POST', `/v1/runs/${runId}/cancel`)).status, 202);
    const run = await closed(runId);
    assert.deepEqual([run.status, run.steps.map((s: Step) => [s.id, s.status])], ['cancelled', [['nap', 'cancelled']]]);
    assert.ok(endLost(runId), "the worker logged the run's own final record as not recorded");
    assert.equal(run.endedAt, await closeTime(runId));
  });

  it('a restored final record stays: neither a late record of the closed execution nor the close applied again undoes it', async () => {
    const id = await createWorkflow(suite.stack, {
      name: 'quick',
      steps: [{ id: 'one', type: 'transform', config: { expression: '1' } }],
    });
    const runId = await trigger(suite.stack, id);
    const run = await closed(runId);
    assert.deepEqual([run.status, run.result, run.steps.length], ['completed', 1, 1]);
    const description = await suite.stack.client.workflow.getHandle(runId).describe();
    const now = new Date().toISOString();
    // A progress record of the same execution arriving late, newer by its order than anything stored.
    await suite.stack.deps.runs.record({
      runId,
      tenantId: 'default',
      workflowId: id,
      version: 1,
      startedAt: now,
      endedAt: null,
      seq: 999,
      recordAt: now,
      executionId: description.runId,
      status: 'running',
      steps: [],
      result: null,
      error: null,
    });
    assert.ok(description.closeTime);
    const again = await suite.stack.deps.runClosures.applyClosures([
      {
        id: runId,
        executionId: description.runId,
        closeStatus: 'Completed',
        closedAt: description.closeTime,
        final: { status: 'failed', steps: [], result: null, error: { code: 'X', message: 'x' } },
      },
    ]);
    assert.equal(again, 0, 'the close applied again changes no row');
    assert.deepEqual((await suite.stack.call('GET', `/v1/runs/${runId}`)).body, run);
  });

  it('restores the final record of a run that continued as new, whose index row follows an earlier execution', async () => {
    suite.receiver.accept('/later');
    const runId = `chain-${Date.now()}`;
    const definition: Definition = {
      name: 'chain',
      steps: [
        { id: 'nap', type: 'delay', config: { duration: '10ms' } },
        { id: 'call', type: 'http', config: { url: `${suite.receiver.url}/later` } },
        { id: 'done', type: 'transform', config: { expression: 'steps.call.output.status' } },
      ],
    };
    await suite.stack.deps.runs.insertTriggered({
      id: runId,
      tenantId: 'default',
      workflowId: 'chain',
      version: 1,
      startedAt: new Date(),
    });
    // A history limit this low continues the run as new after `nap`: only the first execution,
    // which waits, writes progress records (the index row follows it); the last one writes
    // nothing but its end, which is refused.
    const input: RunInput = {
      ...stampRun(undefined),
      tenantId: 'default',
      workflowId: 'chain',
      version: 1,
      definition,
      trigger: {},
      historyLimit: 5,
    };
    const handle = await suite.stack.client.workflow.start('interpreter', {
      taskQueue: suite.stack.config.TEMPORAL_TASK_QUEUE,
      workflowId: runId,
      args: [input],
    });
    assert.equal(await handle.result().then((r) => r.output), 200);
    const described = await handle.describe();
    assert.notEqual(described.runId, handle.firstExecutionRunId, 'the run continued as new');
    const run = await closed(runId);
    assert.deepEqual(
      [run.status, run.result, run.steps.map((s: Step) => [s.id, s.status])],
      [
        'completed',
        200,
        [
          ['nap', 'completed'],
          ['call', 'completed'],
          ['done', 'completed'],
        ],
      ],
    );
    const now = await suite.stack.pool.query<{ temporal_run_id: string }>(
      'SELECT temporal_run_id FROM runs WHERE id = $1',
      [runId],
    );
    assert.equal(now.rows[0]?.temporal_run_id, described.runId, 'the index follows the closed execution from now on');
  });

  it('a run ends in Temporal while the index hangs: its end record is given up after a few seconds and restored', async () => {
    // The database now takes 8 s to refuse an end record, as a hung one would: past the sink's wait.
    await suite.stack.pool.query(`
      CREATE OR REPLACE FUNCTION refuse_run_ends() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(8); RAISE EXCEPTION 'the run index is down'; END $$;`);
    try {
      const id = await createWorkflow(suite.stack, {
        name: 'quick while the index hangs',
        steps: [{ id: 'one', type: 'transform', config: { expression: '"done"' } }],
      });
      const runId = await trigger(suite.stack, id);
      const run = await closed(runId);
      assert.deepEqual([run.status, run.result], ['completed', 'done']);
      assert.ok(
        logLines.some((line) => line.includes('run end not recorded in time') && line.includes(runId)),
        'the worker gave the end record up instead of holding the run open',
      );
      const history = await suite.stack.client.workflow.getHandle(runId).fetchHistory();
      assert.equal(
        history.events?.filter((e) => e.workflowTaskTimedOutEventAttributes || e.workflowTaskFailedEventAttributes)
          .length,
        0,
        'the last workflow task completed: the wait did not time it out',
      );
    } finally {
      await suite.stack.pool.query(`
        CREATE OR REPLACE FUNCTION refuse_run_ends() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'the run index is down'; END $$;`);
    }
  });

  it('lists a run the index has no row of at all (its start and end records both lost) with its final state', async () => {
    const runId = `rowless-${Date.now()}`;
    const input: RunInput = {
      ...stampRun(undefined),
      tenantId: 'default',
      workflowId: 'rowless',
      version: 3,
      definition: {
        name: 'rowless',
        steps: [{ id: 'one', type: 'transform', config: { expression: 'trigger.n + 1' } }],
      },
      trigger: { n: 41 },
    };
    // Started as the API starts runs, but the API's row never reached the index.
    const handle = await suite.stack.client.workflow.start('interpreter', {
      taskQueue: suite.stack.config.TEMPORAL_TASK_QUEUE,
      workflowId: runId,
      args: [input],
      typedSearchAttributes: runSearchAttributes(input),
    });
    await handle.result();
    const run = await closed(runId);
    assert.deepEqual(
      [run.status, run.result, run.workflowId, run.version, run.steps.map((s: Step) => [s.id, s.status])],
      ['completed', 42, 'rowless', 3, [['one', 'completed']]],
    );
    assert.ok(endLost(runId), "the worker logged the run's own final record as not recorded");
    assert.equal(run.startedAt, (await handle.describe()).startTime.toISOString());
  });
});

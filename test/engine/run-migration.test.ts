import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { mintToken } from '../../src/shared/tokens.js';
import { VERSION } from '../../src/workflows/search-attributes.js';
import { waitFor } from '../helpers/ports.js';
import { REPLAY_OPTIONS } from '../helpers/replay.js';
import { useStack } from '../helpers/use-stack.js';

const SECRET = 'run-migration-test-secret-that-is-long-enough';
const transform = (id: string, expression: string) => ({ id, type: 'transform', config: { expression } });
const wait = (id: string, name: string) => ({ id, type: 'wait_for_event', config: { name } });

describe('moving open runs to a newer version (real Temporal, real PostgreSQL)', () => {
  const auth: Record<string, Record<string, string>> = {};
  const suite = useStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } });
  before(async () => {
    for (const tenant of ['acme', 'globex'])
      auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
    auth.reader = { authorization: `Bearer ${await mintToken(SECRET, { tenant: 'acme', scopes: ['runs:read'] })}` };
  });
  const as = (who: string, method: string, path: string, body?: unknown) =>
    suite.stack.call(method, path, body, auth[who]);

  async function create(who: string, definition: unknown): Promise<string> {
    const res = await as(who, 'POST', '/v1/workflows', definition);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }
  async function saveVersion(workflowId: string, definition: unknown): Promise<number> {
    const res = await as('acme', 'PUT', `/v1/workflows/${workflowId}`, definition);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.version;
  }
  async function waitingRun(who: string, workflowId: string, payload: unknown = {}): Promise<string> {
    const res = await as(who, 'POST', `/v1/workflows/${workflowId}/runs`, payload);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const runId: string = res.body.runId;
    await waitFor(`run ${runId} to wait`, async () =>
      (await as(who, 'GET', `/v1/runs/${runId}`)).body?.status === 'waiting' ? true : undefined,
    );
    return runId;
  }
  const ended = (runId: string) =>
    waitFor(`run ${runId} to end`, async () => {
      const res = await as('acme', 'GET', `/v1/runs/${runId}`);
      return ['completed', 'failed'].includes(res.body?.status) ? res.body : undefined;
    });
  const migrate = (workflowId: string, version: number, body: unknown, who = 'acme') =>
    as(who, 'POST', `/v1/workflows/${workflowId}/versions/${version}/migrate`, body);

  /** The run's history replays against the current workflow code (as test/engine/replay.test.ts does for recorded ones). */
  async function assertReplays(runId: string): Promise<void> {
    const history = await suite.stack.client.workflow.getHandle(runId).fetchHistory();
    const errors: string[] = [];
    for await (const result of Worker.runReplayHistories(REPLAY_OPTIONS, [{ workflowId: runId, history }]))
      if (result.error) errors.push(result.error.message);
    assert.deepEqual(errors, [], `run ${runId} does not replay`);
  }

  it("a run waiting for an event on v1, moved to a v2 that changes the steps after the wait, finishes on v2's steps; the move is in its history and it replays", async () => {
    const wf = await create('acme', {
      name: 'approval',
      steps: [wait('approval', 'approved'), transform('notify', '"v1: " & steps.approval.output.by')],
    });
    const runId = await waitingRun('acme', wf);
    const v2 = await saveVersion(wf, {
      name: 'approval',
      steps: [
        wait('approval', 'approved'),
        transform('greet', '"v2: " & steps.approval.output.by'),
        transform('done', '{ "greeting": steps.greet.output, "version": run.version }'),
      ],
    });
    assert.equal(v2, 2);

    const dry = await migrate(wf, v2, { dryRun: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body.items, [{ runId, version: 1, result: 'compatible', reason: null }]);
    assert.equal(dry.body.nextCursor, null);

    const moved = await migrate(wf, v2, { dryRun: false, runIds: [runId] });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.items[0].result, 'accepted');
    // Accepted, not moved yet: the run moves when its waiting step ends.
    const before = (await as('acme', 'GET', `/v1/runs/${runId}`)).body;
    assert.deepEqual([before.version, before.movedFrom], [1, null]);

    assert.equal((await as('acme', 'POST', `/v1/runs/${runId}/events/approved`, { by: 'ada' })).status, 202);
    const run = await ended(runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.deepEqual(run.result, { greeting: 'v2: ada', version: 2 });
    assert.deepEqual(
      run.steps.map((s: { id: string }) => s.id),
      ['approval', 'greet', 'done'],
    );
    assert.deepEqual([run.version, run.movedFrom], [2, 1]);
    const listed = (await as('acme', 'GET', `/v1/runs?workflowId=${wf}`)).body.items;
    assert.deepEqual(
      listed.map((r: { version: number; movedFrom: number | null }) => [r.version, r.movedFrom]),
      [[2, 1]],
    );
    const handle = suite.stack.client.workflow.getHandle(runId);
    assert.equal((await handle.describe()).typedSearchAttributes.get(VERSION), 2);
    const history = await handle.fetchHistory();
    const updates = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    assert.equal(updates.length, 1, 'the move is recorded in the history as one accepted update');
    await assertReplays(runId);
  });

  it('a run whose current step v2 removes is reported incompatible, with the reason, stays and finishes on v1', async () => {
    const wf = await create('acme', {
      name: 'hold',
      steps: [transform('first', '1'), wait('hold', 'go'), transform('after', '"v1"')],
    });
    const runId = await waitingRun('acme', wf);
    const v2 = await saveVersion(wf, { name: 'hold', steps: [transform('first', '1'), transform('after', '"v2"')] });
    const reason = "step 'hold' has started in this run, but version 2 has no step 'hold'";

    const dry = await migrate(wf, v2, { dryRun: true, fromVersions: [1] });
    assert.deepEqual(dry.body.items, [{ runId, version: 1, result: 'incompatible', reason }]);
    const refused = await migrate(wf, v2, { dryRun: false });
    assert.deepEqual(refused.body.items, [{ runId, version: 1, result: 'incompatible', reason }]);

    assert.equal((await as('acme', 'POST', `/v1/runs/${runId}/events/go`, {})).status, 202);
    const run = await ended(runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(run.result, 'v1');
    assert.deepEqual([run.version, run.movedFrom], [1, null]);
    const history = await suite.stack.client.workflow.getHandle(runId).fetchHistory();
    assert.equal(
      (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length,
      0,
      'a refused offer leaves no trace in the history',
    );
    await assertReplays(runId);
  });

  it('a run waiting for another event in v2 is incompatible; a run that ended is reported ended', async () => {
    const wf = await create('acme', { name: 'renamed', steps: [wait('approval', 'approved'), transform('x', '1')] });
    const waiting = await waitingRun('acme', wf);
    const done = await create('acme', { name: 'quick', steps: [transform('x', '1')] });
    const v2 = await saveVersion(wf, { name: 'renamed', steps: [wait('approval', 'signed'), transform('x', '2')] });
    const dry = await migrate(wf, v2, { dryRun: true });
    assert.deepEqual(dry.body.items, [
      {
        runId: waiting,
        version: 1,
        result: 'incompatible',
        reason: "step 'approval' waits for event 'approved' in this run, but for event 'signed' in version 2",
      },
    ]);
    const quick = (await as('acme', 'POST', `/v1/workflows/${done}/runs`, {})).body.runId;
    await ended(quick);
    await saveVersion(done, { name: 'quick', steps: [transform('x', '2')] });
    const res = await migrate(done, 2, { dryRun: false, runIds: [quick] });
    assert.equal(res.body.items[0].result, 'ended');
  });

  it('pages the open runs of older versions: at most `limit` a call, then the next cursor', async () => {
    const wf = await create('acme', { name: 'many', steps: [wait('w', 'go'), transform('x', '1')] });
    const runs = [await waitingRun('acme', wf), await waitingRun('acme', wf), await waitingRun('acme', wf)];
    const v2 = await saveVersion(wf, { name: 'many', steps: [wait('w', 'go'), transform('x', '2')] });
    const first = await migrate(wf, v2, { dryRun: true, limit: 2 });
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await migrate(wf, v2, { dryRun: true, limit: 2, cursor: first.body.nextCursor });
    assert.equal(second.body.nextCursor, null);
    const seen = [...first.body.items, ...second.body.items].map((i: { runId: string }) => i.runId);
    assert.deepEqual([...seen].sort(), [...runs].sort());
  });

  it('refuses bad input with a problem: unknown version, version not newer, foreign runs, too many or malformed fields, missing scope', async () => {
    const wf = await create('acme', { name: 'target', steps: [wait('w', 'go'), transform('x', '1')] });
    const mine = await waitingRun('acme', wf);
    await saveVersion(wf, { name: 'target', steps: [wait('w', 'go'), transform('x', '2')] });
    const foreignWf = await create('globex', { name: 'theirs', steps: [wait('w', 'go'), transform('x', '1')] });
    const theirs = await waitingRun('globex', foreignWf);
    const expect = async (res: Promise<{ status: number; body: { code?: string } }>, status: number, code: string) => {
      const { status: got, body } = await res;
      assert.equal(got, status, JSON.stringify(body));
      assert.equal(body.code, code, JSON.stringify(body));
    };

    await expect(migrate(wf, 99, { dryRun: true }), 404, 'NOT_FOUND');
    await expect(migrate('no-such-workflow', 2, { dryRun: true }), 404, 'NOT_FOUND');
    await expect(migrate(wf, 1, { dryRun: true }), 400, 'VERSION_NOT_NEWER');
    await expect(migrate(wf, 2, { dryRun: true, fromVersions: [1, 2] }), 400, 'VERSION_NOT_NEWER');
    // Another tenant's workflow is unknown here, and so is its run, by id, in one's own workflow.
    await expect(migrate(foreignWf, 1, { dryRun: true }), 404, 'NOT_FOUND');
    await expect(migrate(wf, 2, { dryRun: false, runIds: [mine, theirs] }), 404, 'NOT_FOUND');
    await expect(migrate(wf, 2, { dryRun: false, runIds: [theirs] }, 'globex'), 404, 'NOT_FOUND');
    const tooMany = Array.from({ length: 101 }, (_, i) => `run-${i}`);
    await expect(migrate(wf, 2, { dryRun: true, runIds: tooMany }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryRun: true, fromVersions: Array(101).fill(1) }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryRun: true, runIds: ['x'.repeat(201)] }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryrun: true }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, {}), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryRun: 'yes' }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryRun: true, fromVersions: [0] }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryRun: true, limit: 1000 }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryRun: true, runIds: [mine], cursor: 'x' }), 400, 'INVALID_REQUEST');
    await expect(migrate(wf, 2, { dryRun: true, cursor: 'forged' }), 400, 'INVALID_CURSOR');
    await expect(
      as('acme', 'POST', `/v1/workflows/${wf}/versions/two/migrate`, { dryRun: true }),
      400,
      'INVALID_REQUEST',
    );
    await expect(
      as('acme', 'POST', `/v1/workflows/${wf}/versions/2/migrate`, '{"dryRun": tru'),
      400,
      'MALFORMED_REQUEST',
    );
    await expect(
      as('acme', 'POST', `/v1/workflows/${wf}/versions/1e99/migrate`, { dryRun: true }),
      400,
      'INVALID_REQUEST',
    );
    await expect(migrate(wf, 2, { dryRun: false }, 'reader'), 403, 'FORBIDDEN');

    // Nothing refused moved anything: both runs are where they were, on their first version.
    for (const [who, runId] of [
      ['acme', mine],
      ['globex', theirs],
    ] as const) {
      const run = (await as(who, 'GET', `/v1/runs/${runId}`)).body;
      assert.deepEqual([run.status, run.version, run.movedFrom], ['waiting', 1, null]);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/ports.js';
import { json, mz, useCliStack } from './mz.js';

/** `mz runs`, `dead-letters`, `triggers` and `login`, run as the package's bin against the engine over real HTTP. */
describe('mz runs (the bin, over HTTP, real stack)', () => {
  const { cli, as, create, start } = useCliStack();

  it('runs ls, get and tail: a run that completes is listed, shown with its steps and followed to its end (exit 0)', async () => {
    const { env } = cli;
    const wf = await create({
      name: 'quick',
      steps: [
        { id: 'pause', type: 'delay', config: { duration: '1s' } },
        { id: 'shape', type: 'transform', config: { expression: "'done ' & trigger.n" } },
      ],
    });
    const runId = await start(wf, { n: 1 });
    const tail = await mz(['runs', 'tail', runId, '--timeout', '120'], env);
    assert.equal(tail.code, 0, tail.stderr);
    assert.match(tail.stdout, /pause\s+completed/);
    assert.match(tail.stdout, /shape\s+completed/);
    assert.match(tail.stdout, new RegExp(`run ${runId} completed`));
    const listed = json<{ id: string; status: string }[]>(await mz(['--json', 'runs', 'ls', '-w', wf], env));
    assert.deepEqual(
      listed.map((r) => [r.id, r.status]),
      [[runId, 'completed']],
    );
    const table = await mz(['runs', 'ls', '--status', 'completed'], env);
    assert.match(table.stdout, /^ID\s+WORKFLOW\s+VERSION\s+STATUS/);
    assert.match(table.stdout, new RegExp(runId));
    const got = await mz(['runs', 'get', runId], env);
    assert.equal(got.code, 0);
    assert.match(got.stdout, /STEPS/);
    assert.match(got.stdout, /result: "done 1"/);
    const rerun = json<{ runId: string }>(await mz(['--json', 'runs', 'rerun', runId], env));
    assert.notEqual(rerun.runId, runId);
    const again = await mz(['runs', 'tail', rerun.runId, '--timeout', '120'], env);
    assert.equal(again.code, 0, again.stderr);
  });

  it('runs cancel stops a waiting run, and tail then exits 1 for a run that did not complete', async () => {
    const { env } = cli;
    const wf = await create({
      name: 'waits',
      steps: [{ id: 'approval', type: 'wait_for_event', config: { name: 'approved', timeout: '1h' } }],
    });
    const runId = await start(wf);
    await waitFor('the run waits', async () =>
      (await as('GET', `/v1/runs/${runId}`)).body.status === 'waiting' ? true : undefined,
    );
    const cancelled = await mz(['runs', 'cancel', runId], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const tail = await mz(['runs', 'tail', runId, '--timeout', '120'], env);
    assert.equal(tail.code, 1);
    assert.match(tail.stdout, /cancelled/);
  });

  it('runs reset resumes a run from a step: the step after it runs again', async () => {
    const { env } = cli;
    const wf = await create({
      name: 'resettable',
      steps: [
        { id: 'first', type: 'transform', config: { expression: '1' } },
        { id: 'second', type: 'transform', config: { expression: '2' } },
      ],
    });
    const runId = await start(wf);
    assert.equal((await mz(['runs', 'tail', runId], env)).code, 0);
    const reset = await mz(['runs', 'reset', runId, '--from-step', 'second'], env);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /reset from second/);
    const bad = await mz(['runs', 'reset', runId, '--from-step', 'nope'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /HTTP 4\d\d/);
  });

  it('migrate: --dry-run lists a waiting run as compatible, then moves it, and it finishes on the new version', async () => {
    const { env } = cli;
    const wait = { id: 'hold', type: 'wait_for_event', config: { name: 'go' } };
    const wf = await create({
      name: 'moves',
      steps: [wait, { id: 'greet', type: 'transform', config: { expression: "'v1'" } }],
    });
    const runId = await start(wf);
    await waitFor(
      'the run to wait',
      async () => ((await as('GET', `/v1/runs/${runId}`)).body?.status === 'waiting' ? true : undefined),
      60_000,
    );
    const v2 = await as('PUT', `/v1/workflows/${wf}`, {
      name: 'moves',
      steps: [wait, { id: 'greet', type: 'transform', config: { expression: "'v2'" } }],
    });
    assert.equal(v2.body.version, 2, JSON.stringify(v2.body));
    const dry = json<{ items: { runId: string; result: string }[] }>(
      await mz(['--json', 'migrate', wf, '2', '--dry-run'], env),
    );
    assert.deepEqual(
      dry.items.map((i) => [i.runId, i.result]),
      [[runId, 'compatible']],
    );
    const moved = json<{ items: { runId: string; result: string }[] }>(
      await mz(['--json', 'migrate', wf, '2', '--run', runId], env),
    );
    assert.deepEqual(
      moved.items.map((i) => [i.runId, i.result]),
      [[runId, 'accepted']],
    );
    assert.equal((await as('POST', `/v1/runs/${runId}/events/go`, {})).status, 202);
    const tail = await mz(['runs', 'tail', runId, '--timeout', '120'], env);
    assert.equal(tail.code, 0, tail.stderr);
    const run = (await as('GET', `/v1/runs/${runId}`)).body;
    assert.deepEqual([run.result, run.version, run.movedFrom], ['v2', 2, 1]);
    const bad = await mz(['migrate', wf, '1', '--dry-run'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /VERSION_NOT_NEWER|HTTP 400/);
  });
});

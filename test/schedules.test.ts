import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleNotFoundError } from '@temporalio/client';
import { mintToken } from '../src/shared/tokens.js';
import { waitFor } from './helpers/ports.js';
import { startStack, type Stack } from './helpers/stack.js';

const SECRET = 'schedules-test-secret-that-is-long-enough';
const echoSource = (name: string) => ({
  name,
  steps: [{ id: 'source', type: 'transform', config: { expression: 'run.source' } }],
});
const slow = (name: string) => ({ name, steps: [{ id: 'wait', type: 'delay', config: { duration: '4s' } }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunSummary {
  id: string;
  status: string;
  startedAt: string;
  source: { type: string; triggerId?: string; scheduledAt?: string } | null;
}

describe('schedule triggers (real Temporal Schedules, real PostgreSQL)', () => {
  let stack: Stack;
  const auth: Record<string, Record<string, string>> = {};
  before(async () => {
    stack = await startStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } });
    for (const tenant of ['acme', 'globex'])
      auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
    auth.reader = {
      authorization: `Bearer ${await mintToken(SECRET, { tenant: 'acme', scopes: ['workflows:read', 'workflows:write'] })}`,
    };
  });
  after(() => stack?.stop());

  const as = (who: string, method: string, path: string, body?: unknown) => stack.call(method, path, body, auth[who]);
  async function workflow(definition: unknown): Promise<string> {
    const res = await as('acme', 'POST', '/v1/workflows', definition);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }
  async function addTrigger(workflowId: string, body: Record<string, unknown>): Promise<string> {
    const res = await as('acme', 'POST', `/v1/workflows/${workflowId}/triggers`, { type: 'schedule', ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }
  async function scheduledRuns(workflowId: string): Promise<RunSummary[]> {
    const res = await as('acme', 'GET', `/v1/runs?workflowId=${workflowId}&source=schedule&limit=200`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items;
  }
  const scheduleGone = (triggerId: string) =>
    stack.client.schedule
      .getHandle(`trigger-${triggerId}`)
      .describe()
      .then(
        () => false,
        (err: unknown) => err instanceof ScheduleNotFoundError,
      );

  it('an every-2-seconds schedule starts runs on time, each with its source in the run, its context and the index; pause stops it', async () => {
    const wf = await workflow(echoSource('every 2s'));
    const triggerId = await addTrigger(wf, { every: '2s', input: { hello: 'schedule' } });
    const runs = await waitFor(
      'three scheduled runs',
      async () => {
        const found = await scheduledRuns(wf);
        return found.length >= 3 ? found : undefined;
      },
      20_000,
    );
    for (const run of runs) {
      assert.equal(run.source?.type, 'schedule');
      assert.equal(run.source?.triggerId, triggerId);
      const scheduledAt = Date.parse(run.source?.scheduledAt ?? '');
      assert.equal(scheduledAt % 2000, 0, `fired on the 2 s grid: ${run.source?.scheduledAt}`);
      const late = Date.parse(run.startedAt) - scheduledAt;
      assert.ok(late >= 0 && late < 1500, `started ${late} ms after its scheduled time`);
    }
    const scheduledTimes = runs.map((r) => Date.parse(r.source?.scheduledAt ?? '')).sort();
    for (let i = 1; i < scheduledTimes.length; i++)
      assert.equal((scheduledTimes[i] ?? 0) - (scheduledTimes[i - 1] ?? 0), 2000, 'no firing skipped or doubled');

    const done = await waitFor('a scheduled run to complete', async () => {
      const res = await as('acme', 'GET', `/v1/runs/${runs.at(-1)?.id}`);
      return res.body.status === 'completed' ? res.body : undefined;
    });
    assert.deepEqual(done.source, runs.at(-1)?.source);
    assert.deepEqual(done.steps[0].output, done.source, 'run.source in expressions is the run’s source');
    const apiOnly = await as('acme', 'GET', `/v1/runs?workflowId=${wf}&source=api`);
    assert.equal(apiOnly.body.items.length, 0, 'the source filter keeps scheduled runs out of api runs');

    assert.equal((await as('acme', 'POST', `/v1/triggers/${triggerId}/pause`)).body.paused, true);
    await sleep(1000); // a firing taken just before the pause may still be starting its run
    const atPause = (await scheduledRuns(wf)).length;
    await sleep(5000);
    assert.equal((await scheduledRuns(wf)).length, atPause, 'no run starts while the trigger is paused');
    assert.equal((await as('acme', 'POST', `/v1/triggers/${triggerId}/resume`)).body.paused, false);
    await waitFor(
      'a run after resuming',
      async () => ((await scheduledRuns(wf)).length > atPause ? true : undefined),
      10_000,
    );
    assert.equal((await as('acme', 'DELETE', `/v1/triggers/${triggerId}`)).status, 204);
  });

  it('overlap skip starts no run while the previous one runs; allow_all starts every firing alongside', async () => {
    const skipWf = await workflow(slow('slow skip'));
    const allWf = await workflow(slow('slow allow_all'));
    const skip = await addTrigger(skipWf, { every: '1s', overlap: 'skip' });
    const all = await addTrigger(allWf, { every: '1s', overlap: 'allow_all' });
    await sleep(6000);
    await Promise.all([
      as('acme', 'POST', `/v1/triggers/${skip}/pause`),
      as('acme', 'POST', `/v1/triggers/${all}/pause`),
    ]);
    const skipped = await scheduledRuns(skipWf);
    const allowed = await scheduledRuns(allWf);
    // Runs last 4 s: in 6 s, skip takes the first firing and the first after it ended.
    assert.ok(skipped.length >= 1 && skipped.length <= 2, `skip started ${skipped.length} runs`);
    assert.ok(allowed.length >= 5, `allow_all started ${allowed.length} runs`);
    const overlapping = (runs: RunSummary[]) =>
      runs.filter((r) =>
        runs.some((o) => o !== r && Math.abs(Date.parse(o.startedAt) - Date.parse(r.startedAt)) < 4000),
      ).length;
    assert.equal(overlapping(skipped), 0, 'no two skip runs overlapped');
    assert.ok(overlapping(allowed) >= 5, 'allow_all runs overlapped');
  });

  it('a backfill over a past hour of an every-10m schedule starts 6 runs, each with its scheduled time', async () => {
    const wf = await workflow(echoSource('backfilled'));
    const triggerId = await addTrigger(wf, { every: '10m' });
    const grid = Math.floor(Date.now() / 600_000) * 600_000;
    const from = new Date(grid - 65 * 60_000).toISOString();
    const to = new Date(grid - 5 * 60_000).toISOString();
    const res = await as('acme', 'POST', `/v1/triggers/${triggerId}/backfill`, { from, to });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const expected = [60, 50, 40, 30, 20, 10].map((m) => new Date(grid - m * 60_000).toISOString());
    const runs = await waitFor('six backfilled runs', async () => {
      const found = (await scheduledRuns(wf)).filter((r) => (r.source?.scheduledAt ?? '') < to);
      return found.length >= 6 ? found : undefined;
    });
    await sleep(1000);
    const again = (await scheduledRuns(wf)).filter((r) => (r.source?.scheduledAt ?? '') < to);
    assert.deepEqual(again.map((r) => r.source?.scheduledAt).sort(), expected, 'exactly one run per backfilled firing');
    for (const run of runs) {
      const ended = await waitFor(`run ${run.id}`, async () => {
        const r = await as('acme', 'GET', `/v1/runs/${run.id}`);
        return r.body.status === 'completed' ? r.body : undefined;
      });
      assert.equal(ended.steps[0].output.scheduledAt, run.source?.scheduledAt);
    }
  });

  it('archiving a workflow deletes its schedules', async () => {
    const wf = await workflow(echoSource('archived'));
    const triggerId = await addTrigger(wf, { cron: '0 9 * * *' });
    // Described, not listed: Temporal's list of schedules is eventually consistent.
    const described = await stack.client.schedule.getHandle(`trigger-${triggerId}`).describe();
    assert.equal(described.scheduleId, `trigger-${triggerId}`, 'the schedule is a Temporal Schedule');
    assert.equal((await as('acme', 'DELETE', `/v1/workflows/${wf}`)).status, 204);
    assert.equal(await scheduleGone(triggerId), true);
    assert.equal((await as('acme', 'GET', `/v1/triggers/${triggerId}`)).status, 404);
    assert.equal(
      (await as('acme', 'POST', `/v1/workflows/${wf}/triggers`, { type: 'schedule', every: '1h' })).body.code,
      'WORKFLOW_ARCHIVED',
    );
  });

  it("triggers are created, read with their next 10 fire times, patched and deleted; another tenant's trigger answers 404", async () => {
    const wf = await workflow(echoSource('crud'));
    const created = await as('acme', 'POST', `/v1/workflows/${wf}/triggers`, {
      type: 'schedule',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      input: { a: 1 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.overlap, 'skip');
    assert.equal(created.body.version, null);
    const id = created.body.id;

    const read = await as('reader', 'GET', `/v1/triggers/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.nextFireTimes.length, 10);
    for (const t of read.body.nextFireTimes) {
      const berlin = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
        weekday: 'short',
      }).format(new Date(t));
      assert.match(berlin, /^(Mon|Tue|Wed|Thu|Fri) 09:00$/, `${t} is 09:00 on a weekday in Berlin`);
    }
    assert.deepEqual(
      (await as('acme', 'GET', `/v1/workflows/${wf}/triggers`)).body.items.map((t: { id: string }) => t.id),
      [id],
    );

    const patched = await as('acme', 'PATCH', `/v1/triggers/${id}`, {
      every: '1h',
      timezone: null,
      overlap: 'buffer_one',
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.every, '1h');
    assert.equal(patched.body.cron, undefined);
    assert.equal(patched.body.overlap, 'buffer_one');
    const described = await stack.client.schedule.getHandle(`trigger-${id}`).describe();
    assert.deepEqual(
      described.spec.intervals?.map((i) => i.every),
      [3_600_000],
    );
    assert.equal(described.policies.overlap, 'BUFFER_ONE');

    assert.equal(
      (await as('acme', 'POST', `/v1/workflows/${wf}/triggers`, { type: 'schedule', cron: '* * * * *', every: '1m' }))
        .body.code,
      'INVALID_REQUEST',
    );
    assert.equal(
      (await as('acme', 'POST', `/v1/workflows/${wf}/triggers`, { type: 'schedule', cron: 'not a cron' })).body.code,
      'INVALID_TRIGGER',
    );
    assert.equal(
      (await as('acme', 'POST', `/v1/workflows/${wf}/triggers`, { type: 'schedule', every: '1h', version: 9 })).status,
      404,
    );
    assert.equal(
      (await as('reader', 'POST', `/v1/workflows/${wf}/triggers`, { type: 'schedule', every: '1h' })).status,
      403,
      'creating needs runs:write too',
    );

    for (const [method, path, body] of [
      ['GET', `/v1/triggers/${id}`],
      ['PATCH', `/v1/triggers/${id}`, { every: '2h' }],
      ['POST', `/v1/triggers/${id}/pause`],
      ['POST', `/v1/triggers/${id}/resume`],
      ['POST', `/v1/triggers/${id}/run`],
      ['POST', `/v1/triggers/${id}/backfill`, { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }],
      ['DELETE', `/v1/triggers/${id}`],
      ['GET', `/v1/workflows/${wf}/triggers`],
      ['POST', `/v1/workflows/${wf}/triggers`, { type: 'schedule', every: '1h' }],
    ] as const) {
      const res = await as('globex', method, path, body);
      assert.equal(res.status, 404, `${method} ${path} answered ${res.status}`);
    }
    assert.equal(
      (await stack.client.schedule.getHandle(`trigger-${id}`).describe()).state.paused,
      false,
      "another tenant's calls changed nothing",
    );

    const fired = await as('acme', 'POST', `/v1/triggers/${id}/run`);
    assert.equal(fired.status, 202);
    const run = await waitFor('the run fired now', async () => (await scheduledRuns(wf))[0]);
    assert.equal(run.source?.triggerId, id);

    assert.equal((await as('acme', 'DELETE', `/v1/triggers/${id}`)).status, 204);
    assert.equal(await scheduleGone(id), true);
    assert.equal((await as('acme', 'GET', `/v1/triggers/${id}`)).status, 404);
  });

  it("daylight saving follows Temporal's rule: 02:30 Berlin is skipped on the spring change day and taken once, at its second occurrence, on the autumn one", async () => {
    const wf = await workflow(echoSource('dst'));
    const spring = await addTrigger(wf, {
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      startAt: '2027-03-26T00:00:00Z',
    });
    const autumn = await addTrigger(wf, {
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      startAt: '2027-10-29T00:00:00Z',
    });
    const springTimes: string[] = (await as('acme', 'GET', `/v1/triggers/${spring}`)).body.nextFireTimes;
    const autumnTimes: string[] = (await as('acme', 'GET', `/v1/triggers/${autumn}`)).body.nextFireTimes;
    // Spring, 2027-03-28: 02:30 does not exist in Berlin (02:00 CET jumps to 03:00 CEST): no firing that day.
    assert.deepEqual(springTimes.slice(0, 4), [
      '2027-03-26T01:30:00.000Z',
      '2027-03-27T01:30:00.000Z',
      '2027-03-29T00:30:00.000Z',
      '2027-03-30T00:30:00.000Z',
    ]);
    // Autumn, 2027-10-31: 02:30 happens twice (CEST, then CET); the schedule fires once, at the second (01:30Z).
    assert.deepEqual(autumnTimes.slice(0, 4), [
      '2027-10-29T00:30:00.000Z',
      '2027-10-30T00:30:00.000Z',
      '2027-10-31T01:30:00.000Z',
      '2027-11-01T01:30:00.000Z',
    ]);
  });
});

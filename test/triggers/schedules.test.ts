import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { pino } from 'pino';
import type { TriggersRepo } from '../../src/db/triggers-repo.js';
import { createScheduleReconciler, driftOf } from '../../src/triggers/schedule/reconciler.js';
import {
  createTrigger,
  deleteTrigger,
  patchTrigger,
  setTriggerPaused,
  triggerDeps,
  type TriggerDeps,
} from '../../src/triggers/trigger-changes.js';
import { mintToken } from '../../src/shared/tokens.js';
import { SCHEDULED_START } from '../../src/workflows/search-attributes.js';
import { waitFor } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';

const SECRET = 'schedules-test-secret-that-is-long-enough';
const echoSource = (name: string) => ({
  name,
  steps: [{ id: 'source', type: 'transform', config: { expression: 'run.source' } }],
});
const slow = (name: string) => ({ name, steps: [{ id: 'wait', type: 'delay', config: { duration: '4s' } }] });
/** How late after its scheduled time a run may start here: generous, for a loaded machine (the benchmark measures the real figure). */
const START_TOLERANCE_MS = 30_000;
/** A firing taken just as the pause came may still start its run. */
const PAUSE_MARGIN_MS = 2_000;

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
    stack = await startStack({
      // The reconciler's own pass at start is all it does here: the tests run theirs when they ask.
      env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET, SCHEDULE_RECONCILE_INTERVAL_MS: '3600000' },
    });
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
  const describeSchedule = (triggerId: string) => stack.client.schedule.getHandle(`trigger-${triggerId}`).describe();
  const scheduleGone = (triggerId: string) =>
    stack.client.schedule
      .getHandle(`trigger-${triggerId}`)
      .describe()
      .then(
        () => false,
        (err: unknown) => err instanceof ScheduleNotFoundError,
      );

  /** Temporal's own times of a run: when its execution started and closed, and the firing time the schedule gave it. */
  async function temporalTimes(runId: string) {
    const d = await stack.client.workflow.getHandle(runId).describe();
    return {
      start: d.startTime.getTime(),
      close: d.closeTime?.getTime(),
      scheduled: d.typedSearchAttributes.get(SCHEDULED_START)?.getTime(),
    };
  }
  /** Scheduled times that follow each other on the grid, `count` in a row. */
  const consecutive = (times: number[], gridMs: number, count: number) =>
    times.some((t) => Array.from({ length: count }, (_, i) => t + i * gridMs).every((u) => times.includes(u)));

  it('an every-2-seconds schedule starts each firing as the run itself, with its source in the run, its context and the index; pause stops it', async () => {
    const wf = await workflow(echoSource('every 2s'));
    const triggerId = await addTrigger(wf, { every: '2s', input: { hello: 'schedule' }, overlap: 'allow_all' });
    const times = (runs: RunSummary[]) => runs.map((r) => Date.parse(r.source?.scheduledAt ?? ''));
    const runs = await waitFor(
      'three scheduled runs in a row',
      async () => {
        const found = await scheduledRuns(wf);
        return consecutive(times(found), 2000, 3) ? found : undefined;
      },
      60_000,
    );
    const scheduledTimes = times(runs);
    assert.equal(new Set(scheduledTimes).size, scheduledTimes.length, 'no firing doubled');
    for (const run of runs) {
      assert.equal(run.source?.type, 'schedule');
      assert.equal(run.source?.triggerId, triggerId);
      const scheduledAt = Date.parse(run.source?.scheduledAt ?? '');
      assert.equal(scheduledAt % 2000, 0, `fired on the 2 s grid: ${run.source?.scheduledAt}`);
      // The firing is the run: its id derives from (trigger, scheduled time), as Temporal names a schedule's workflow.
      assert.equal(run.id, `run-${triggerId}-${new Date(scheduledAt).toISOString().replace('.000Z', 'Z')}`);
      const t = await temporalTimes(run.id);
      assert.equal(t.scheduled, scheduledAt, "the index's scheduled time is Temporal's");
      const late = t.start - scheduledAt;
      assert.ok(late >= 0 && late < START_TOLERANCE_MS, `started ${late} ms after its scheduled time`);
    }

    const done = await waitFor('a scheduled run to complete', async () => {
      const res = await as('acme', 'GET', `/v1/runs/${runs.at(-1)?.id}`);
      return res.body.status === 'completed' ? res.body : undefined;
    });
    assert.deepEqual(done.source, runs.at(-1)?.source);
    assert.deepEqual(done.steps[0].output, done.source, 'run.source in expressions is the run’s source');
    const apiOnly = await as('acme', 'GET', `/v1/runs?workflowId=${wf}&source=api`);
    assert.equal(apiOnly.body.items.length, 0, 'the source filter keeps scheduled runs out of api runs');

    // Paused: no firing is scheduled between the pause (with a margin for one taken as it came) and the resume.
    assert.equal((await as('acme', 'POST', `/v1/triggers/${triggerId}/pause`)).body.paused, true);
    const pausedFrom = Date.now() + PAUSE_MARGIN_MS;
    await waitFor('three firing periods to pass while paused', async () =>
      Date.now() > pausedFrom + 6000 ? true : undefined,
    );
    const resumedAt = Date.now();
    assert.equal((await as('acme', 'POST', `/v1/triggers/${triggerId}/resume`)).body.paused, false);
    const after = await waitFor(
      'a run after resuming',
      async () => {
        const found = await scheduledRuns(wf);
        return times(found).some((t) => t >= resumedAt) ? found : undefined;
      },
      60_000,
    );
    const whilePaused = times(after).filter((t) => t >= pausedFrom && t < resumedAt);
    assert.deepEqual(whilePaused, [], 'no firing while the trigger was paused');
    assert.equal((await as('acme', 'DELETE', `/v1/triggers/${triggerId}`)).status, 204);
  });

  it('overlap skip starts no run while the previous one runs; allow_all starts every firing alongside', async () => {
    const skipWf = await workflow(slow('slow skip'));
    const allWf = await workflow(slow('slow allow_all'));
    const skip = await addTrigger(skipWf, { every: '1s', overlap: 'skip' });
    const all = await addTrigger(allWf, { every: '1s', overlap: 'allow_all' });
    /** Each run's execution in Temporal's times; a running one runs until now. */
    const spans = async (runs: RunSummary[]) =>
      Promise.all(
        runs.map(async (r) => {
          const t = await temporalTimes(r.id);
          return { start: t.start, end: t.close ?? Date.now() };
        }),
      );
    const overlapping = (s: { start: number; end: number }[]) =>
      s.filter((a) => s.some((b) => b !== a && a.start < b.end && b.start < a.end)).length;
    await waitFor(
      'five allow_all runs running at once',
      async () => ((await spans(await scheduledRuns(allWf))).length >= 5 ? true : undefined),
      60_000,
    );
    const skipped = await waitFor(
      'two skip runs, the first ended',
      async () => {
        const runs = await scheduledRuns(skipWf);
        const s = await spans(runs);
        return s.length >= 2 && s.some((x) => x.end < Date.now() - 1) ? runs : undefined;
      },
      60_000,
    );
    await Promise.all([
      as('acme', 'POST', `/v1/triggers/${skip}/pause`),
      as('acme', 'POST', `/v1/triggers/${all}/pause`),
    ]);
    // Runs last 4 s and firings come every second: skip dropped the firings that came during a run.
    assert.equal(overlapping(await spans(skipped)), 0, 'no two skip runs overlapped');
    assert.ok((await describeSchedule(skip)).info.numActionsSkippedOverlap > 0, 'skip dropped firings');
    assert.ok(overlapping(await spans(await scheduledRuns(allWf))) >= 5, 'allow_all runs overlapped');
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
    for (const run of runs) {
      const ended = await waitFor(`run ${run.id}`, async () => {
        const r = await as('acme', 'GET', `/v1/runs/${run.id}`);
        return r.body.status === 'completed' ? r.body : undefined;
      });
      assert.equal(ended.steps[0].output.scheduledAt, run.source?.scheduledAt);
    }
    // Counted once every run had ended: a second start of any firing would be listed by now.
    const again = (await scheduledRuns(wf)).filter((r) => (r.source?.scheduledAt ?? '') < to);
    assert.deepEqual(again.map((r) => r.source?.scheduledAt).sort(), expected, 'exactly one run per backfilled firing');
  });

  it('a backfill is counted first: above BACKFILL_MAX_FIRINGS it is refused with BACKFILL_TOO_LARGE and starts nothing', async () => {
    const wf = await workflow(echoSource('unbounded backfill'));
    const everySecond = await addTrigger(wf, { every: '1s' });
    const everyMinute = await addTrigger(wf, { cron: '* * * * *' });
    // Paused, they take no firing of their own; a backfill takes its firings all the same.
    for (const id of [everySecond, everyMinute])
      assert.equal((await as('acme', 'POST', `/v1/triggers/${id}/pause`)).status, 200);
    const century = { from: '1990-01-01T00:00:00Z', to: '2090-01-01T00:00:00Z' };
    for (const [triggerId, range] of [
      [everySecond, century],
      [everyMinute, century],
      // Cron counted by Temporal a page at a time: 10,080 firings in a week, just above the bound.
      [everyMinute, { from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z' }],
    ] as const) {
      const res = await as('acme', 'POST', `/v1/triggers/${triggerId}/backfill`, range);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'BACKFILL_TOO_LARGE');
    }
    // Within the bound, a cron backfill goes through: 60 firings in an hour.
    const hour = { from: '2025-12-31T23:59:30Z', to: '2026-01-01T00:59:30Z' };
    assert.equal((await as('acme', 'POST', `/v1/triggers/${everyMinute}/backfill`, hour)).status, 202);
    await waitFor(
      'the hour backfilled',
      async () => ((await scheduledRuns(wf)).length >= 60 ? true : undefined),
      120_000,
    );
    assert.equal((await describeSchedule(everySecond)).info.numActionsTaken, 0, 'the refused backfills took no firing');
    const runs = await scheduledRuns(wf);
    assert.equal(runs.filter((r) => r.source?.triggerId === everySecond).length, 0);
    assert.equal(runs.length, 60, 'the refused backfills started nothing');
    assert.ok(runs.every((r) => (r.source?.scheduledAt ?? '').startsWith('2026-01-01T00:')));
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

  describe('the stored trigger is the truth', () => {
    type Op = 'create' | 'patch' | 'pause' | 'resume' | 'delete';
    type Fault = 'schedule' | 'row' | 'commit';
    const OPS: Op[] = ['create', 'patch', 'pause', 'resume', 'delete'];
    const TENANT = 'acme';
    const failing = new Error('injected failure');

    /** The stack's client, whose schedule writes named in `failing` throw (reads go through). */
    function faultyClient(fail: Set<string>): Client {
      const client = stack.client;
      const refuse = (what: string) => {
        if (fail.has(what)) throw failing;
      };
      const schedule = new Proxy(client.schedule, {
        get(target, prop, receiver) {
          if (prop === 'create')
            return async (...args: Parameters<Client['schedule']['create']>) => {
              refuse('create');
              return target.create(...args);
            };
          if (prop !== 'getHandle') return Reflect.get(target, prop, receiver);
          return (id: string) => {
            const handle = target.getHandle(id);
            return new Proxy(handle, {
              get(h, name, r) {
                const value = Reflect.get(h, name, r);
                if (typeof value !== 'function') return value;
                return (...args: unknown[]) => {
                  refuse(String(name));
                  return (value as (...a: unknown[]) => unknown).apply(h, args);
                };
              },
            });
          };
        },
      });
      return Object.create(client, { schedule: { value: schedule } }) as Client;
    }

    /** Trigger deps whose schedule client or trigger repository fails as `fault` says for `op`. */
    function faulty(op: Op, fault: Fault, created: string[]): TriggerDeps {
      const writes: Record<Op, string[]> = {
        create: ['create'],
        patch: ['update'],
        pause: ['pause'],
        resume: ['unpause'],
        delete: ['delete'],
      };
      const triggers = stack.deps.triggers;
      const base = triggerDeps({
        ...stack.deps,
        temporal: faultyClient(new Set(fault === 'schedule' ? writes[op] : [])),
      });
      const wrapped: TriggersRepo = {
        ...triggers,
        transaction: (fn) =>
          triggers.transaction(async (tx) => {
            const row = async <T>(write: () => Promise<T>) => {
              if (fault === 'row') throw failing;
              return write();
            };
            const result = await fn({
              ...tx,
              create: async (...a) => {
                const t = await row(() => tx.create(...a));
                created.push(t.id);
                return t;
              },
              update: (...a) => row(() => tx.update(...a)),
              remove: (...a) => row(() => tx.remove(...a)),
            });
            // The commit is lost after the schedule was written: the transaction rolls back.
            if (fault === 'commit') throw failing;
            return result;
          }),
      };
      return { ...base, triggers: wrapped };
    }

    /** Row and schedule agree: both absent, or the schedule is what the row says. */
    async function agree(triggerId: string, why: string): Promise<void> {
      const row = await stack.deps.triggers.find(TENANT, triggerId);
      const described = await describeSchedule(triggerId).catch((err: unknown) =>
        err instanceof ScheduleNotFoundError ? undefined : Promise.reject(err),
      );
      if (!row || row.type !== 'schedule')
        return assert.equal(described, undefined, `${why}: a schedule without a row`);
      assert.ok(described, `${why}: a row without a schedule`);
      assert.deepEqual(driftOf(described, row, stack.config.TEMPORAL_TASK_QUEUE), [], `${why}: the schedule differs`);
    }

    async function act(deps: TriggerDeps, op: Op, wf: string, id: string): Promise<unknown> {
      if (op === 'create') return createTrigger(deps, TENANT, wf, { cron: '0 9 * * *' });
      if (op === 'patch') return patchTrigger(deps, TENANT, id, { every: '7m', cron: null });
      if (op === 'delete') return deleteTrigger(deps, TENANT, id);
      return setTriggerPaused(deps, TENANT, id, op === 'pause');
    }

    it('a failure of each write (the schedule, the row, the commit) leaves the row and the schedule agreeing', async () => {
      const wf = await workflow(echoSource('faults'));
      const good = triggerDeps(stack.deps);
      for (const op of OPS)
        for (const fault of ['schedule', 'row', 'commit'] as const) {
          const trigger = await createTrigger(good, TENANT, wf, { cron: '0 9 * * *' });
          if (op === 'resume') await setTriggerPaused(good, TENANT, trigger.id, true);
          const before = await stack.deps.triggers.find(TENANT, trigger.id);
          const created: string[] = [];
          await assert.rejects(act(faulty(op, fault, created), op, wf, trigger.id), `${op}/${fault} fails`);
          assert.deepEqual(
            await stack.deps.triggers.find(TENANT, trigger.id),
            before,
            `${op}/${fault}: the row is unchanged`,
          );
          for (const id of [trigger.id, ...created]) await agree(id, `${op}/${fault}`);
          if (op === 'create') {
            const extra = created[0];
            if (fault !== 'row') assert.ok(extra, 'the row was written before the failure');
            if (extra) assert.equal(await stack.deps.triggers.find(TENANT, extra), undefined, 'the new row was undone');
          }
          // And the same write goes through once nothing fails.
          await act(good, op, wf, trigger.id);
          await agree(trigger.id, `${op} after ${fault}`);
        }
    });

    it('the reconciler repairs drift: a schedule deleted, paused, rewritten or left over behind the engine, and a schedule of the former firing workflow', async () => {
      const wf = await workflow(echoSource('drift'));
      const deps = triggerDeps(stack.deps);
      const make = (cron: string) =>
        createTrigger(deps, TENANT, wf, { cron, timezone: 'Europe/Berlin', jitter: '5s', catchupWindow: '2m' });
      const gone = await make('0 9 * * *');
      const paused = await make('0 10 * * *');
      const changed = await make('0 11 * * *');
      const legacy = await make('0 12 * * *');
      const settled = await make('0 13 * * *');
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
      const reconciler = createScheduleReconciler({
        client: stack.client,
        triggers: stack.deps.triggers,
        closures: stack.deps.runClosures,
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        logger,
      });
      const first = await reconciler.tick();
      assert.equal(first?.created, 0, 'a schedule the engine wrote is not taken for drift');
      assert.equal(first?.rewritten, 0, 'a schedule the engine wrote is not taken for drift');

      const handle = (t: { id: string }) => stack.client.schedule.getHandle(`trigger-${t.id}`);
      await handle(gone).delete();
      await handle(paused).pause('behind the engine');
      await handle(changed).update((p) => ({ ...p, spec: { intervals: [{ every: '1h' }] } }));
      // Written as schedules were before a firing became the run: through the former firing workflow.
      await handle(legacy).update((p) => ({
        ...p,
        action: {
          ...p.action,
          type: 'startWorkflow',
          workflowType: 'scheduledTrigger',
          args: [{ tenantId: TENANT, triggerId: legacy.id }],
        },
      }));
      // A schedule left over by a trigger deleted behind the engine.
      await stack.pool.query('DELETE FROM triggers WHERE id = $1', [settled.id]);

      const second = await reconciler.tick();
      assert.equal(second?.created, 1, 'the deleted schedule is created again');
      assert.equal(second?.rewritten, 3, 'the paused, changed and former schedules are rewritten');
      await describeSchedule(settled.id); // young leftovers wait: a creation may be under way
      for (const t of [gone, paused, changed, legacy]) await agree(t.id, `repaired ${t.id}`);
      assert.ok(
        lines.some((l) => l.includes(legacy.id) && l.includes('action')),
        'the repair is logged with what differed',
      );
      assert.equal((await handle(legacy).describe()).action.workflowType, 'interpreter', 'migrated to the run itself');

      const impatient = createScheduleReconciler({
        client: stack.client,
        triggers: stack.deps.triggers,
        closures: stack.deps.runClosures,
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        logger,
        extraGraceMs: 0,
      });
      // Temporal lists schedules eventually: a pass may not see the leftover yet.
      await waitFor('the leftover schedule deleted', async () => {
        await impatient.tick();
        return (await scheduleGone(settled.id)) ? true : undefined;
      });
      assert.ok(lines.some((l) => l.includes(settled.id) && l.includes('deleted')));
    });

    it('a firing whose trigger was deleted (or whose workflow was archived) since ends skipped and lists no run', async () => {
      const wf = await workflow(echoSource('skipped'));
      const trigger = await createTrigger(triggerDeps(stack.deps), TENANT, wf, { cron: '0 9 1 1 *' });
      await stack.pool.query('DELETE FROM triggers WHERE id = $1', [trigger.id]);
      await stack.client.schedule.getHandle(`trigger-${trigger.id}`).trigger();
      const execution = await waitFor('the firing', async () => {
        for await (const e of stack.client.workflow.list({ query: `MiniZapsWorkflowId = '${wf}'` })) return e;
        return undefined;
      });
      const result = await stack.client.workflow.getHandle(execution.workflowId).result();
      assert.deepEqual(result, { output: null, skipped: true });
      const listed = await stack.pool.query('SELECT 1 FROM runs WHERE workflow_id = $1', [wf]);
      assert.equal(listed.rowCount, 0, 'no run listed');
    });
  });
});

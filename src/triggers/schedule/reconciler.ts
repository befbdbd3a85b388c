import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { RunClosuresRepo } from '../../db/run-closures-repo.js';
import type { TriggerRow, TriggersRepo } from '../../db/triggers-repo.js';
import { toMillis } from '../../definitions/duration.js';
import type { Logger } from '../../shared/logger.js';
import { RUN_WORKFLOW_TYPE } from '../../temporal/run-closure.js';
import {
  createSchedule,
  deleteSchedule,
  OVERLAP,
  scheduledRunPrefix,
  scheduleId,
  updateSchedule,
} from './temporal-schedules.js';
import { every } from '../../shared/every.js';

/** A schedule without a row younger than this may belong to a trigger being created (its row not yet committed). */
const EXTRA_GRACE_MS = 60_000;
const SCHEDULE_PREFIX = scheduleId('');

export interface ScheduleReconcilerDeps {
  client: Client;
  triggers: Pick<TriggersRepo, 'listSchedules'>;
  /** Whose database lock lets one replica reconcile at a time. */
  closures: Pick<RunClosuresRepo, 'exclusive'>;
  taskQueue: string;
  logger: Logger;
  /** How old a schedule without a row must be to be deleted (default EXTRA_GRACE_MS). */
  extraGraceMs?: number;
}

const sameTime = (a: Date | undefined, iso: string | undefined) =>
  (a?.getTime() ?? null) === (iso ? Date.parse(iso) : null);

/** What of a schedule differs from what its trigger's row says (empty: nothing). A cron is compared by its presence only. */
export function driftOf(d: ScheduleDescription, row: TriggerRow, taskQueue: string): string[] {
  const c = row.config;
  const args = JSON.stringify([{ scheduled: { tenantId: row.tenantId, triggerId: row.id } }]);
  const intervals = d.spec.intervals ?? [];
  const checks: [string, boolean][] = [
    ['paused', d.state.paused === row.paused],
    [
      'action',
      d.action.workflowType === RUN_WORKFLOW_TYPE &&
        d.action.workflowId === scheduledRunPrefix(row.id) &&
        d.action.taskQueue === taskQueue &&
        JSON.stringify(d.action.args) === args,
    ],
    ['overlap', d.policies.overlap === OVERLAP[c.overlap ?? 'skip']],
    ['catchupWindow', c.catchupWindow === undefined || d.policies.catchupWindow === toMillis(c.catchupWindow)],
    [
      'every',
      c.every === undefined
        ? intervals.length === 0
        : intervals.length === 1 && intervals[0]?.every === toMillis(c.every) && !intervals[0]?.offset,
    ],
    ['cron', (c.cron === undefined) === ((d.spec.calendars ?? []).length === 0)],
    ['timezone', (d.spec.timezone || 'UTC') === (c.timezone || 'UTC')],
    ['jitter', (d.spec.jitter ?? 0) === (c.jitter ? toMillis(c.jitter) : 0)],
    ['startAt', sameTime(d.spec.startAt, c.startAt)],
    ['endAt', sameTime(d.spec.endAt, c.endAt)],
  ];
  return checks.filter(([, same]) => !same).map(([what]) => what);
}

/**
 * Makes Temporal's Schedules follow the stored triggers, the truth: a trigger whose schedule is
 * missing gets it, one whose schedule differs (changed behind the engine's back, a write lost, or
 * written by an older version of the engine, whose firings went through another workflow) has it
 * rewritten, and a schedule whose trigger is gone (or whose workflow is archived) is deleted. Each
 * repair is logged with what differed. One replica at a time, under a database lock.
 */
export function createScheduleReconciler(deps: ScheduleReconcilerDeps) {
  const { client, logger, taskQueue } = deps;
  const log = (repair: string, triggerId: string, extra: object = {}) =>
    logger.warn({ triggerId, repair, ...extra }, 'schedule drifted from its trigger; repaired');

  async function follow(row: TriggerRow): Promise<string | undefined> {
    const described = await client.schedule
      .getHandle(scheduleId(row.id))
      .describe()
      .catch((err: unknown) => (err instanceof ScheduleNotFoundError ? undefined : Promise.reject(err)));
    if (!described) {
      await createSchedule(client, row, taskQueue);
      log('created', row.id);
      return 'created';
    }
    const drift = driftOf(described, row, taskQueue);
    if (drift.length === 0) return undefined;
    await updateSchedule(client, row, taskQueue);
    log('rewritten', row.id, { drift });
    return 'rewritten';
  }

  /** Deletes the schedules of triggers no row wants, once old enough not to be a creation under way. */
  async function deleteExtras(wanted: Set<string>): Promise<number> {
    let deleted = 0;
    for await (const s of client.schedule.list()) {
      if (!s.scheduleId.startsWith(SCHEDULE_PREFIX) || wanted.has(s.scheduleId)) continue;
      const triggerId = s.scheduleId.slice(SCHEDULE_PREFIX.length);
      const described = await client.schedule
        .getHandle(s.scheduleId)
        .describe()
        .catch(() => undefined);
      if (!described || Date.now() - described.info.createdAt.getTime() < (deps.extraGraceMs ?? EXTRA_GRACE_MS))
        continue;
      await deleteSchedule(client, triggerId);
      log('deleted', triggerId);
      deleted += 1;
    }
    return deleted;
  }

  /** One pass: what it repaired. */
  async function pass(): Promise<{ created: number; rewritten: number; deleted: number }> {
    const rows = await deps.triggers.listSchedules();
    const live = rows.filter((r) => !r.archived);
    const counts = { created: 0, rewritten: 0, deleted: 0 };
    for (const row of live) {
      const repair = await follow(row).catch((err: unknown) => {
        logger.warn({ err, triggerId: row.id }, 'could not make a schedule follow its trigger; next pass tries again');
        return undefined;
      });
      if (repair === 'created') counts.created += 1;
      if (repair === 'rewritten') counts.rewritten += 1;
    }
    counts.deleted = await deleteExtras(new Set(live.map((r) => scheduleId(r.id))));
    return counts;
  }

  return {
    /** One pass; undefined when another replica holds the turn. */
    tick: () => deps.closures.exclusive('schedules', pass),

    /** A pass now and every `intervalMs` while `alive()`; `stop()` waits for the pass under way. */
    start(intervalMs: number, alive: () => boolean = () => true): { stop(): Promise<void> } {
      const tick = async () => {
        await this.tick().catch((err: unknown) => logger.warn({ err }, 'schedule reconciliation failed; retrying'));
      };
      return every(intervalMs, tick, { alive });
    },
  };
}

const ENDED_STATES = ['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'];

/** Runs the schedule reconciler beside a worker until the worker stops. */
export function followSchedules(worker: Worker, deps: ScheduleReconcilerDeps, intervalMs: number) {
  return createScheduleReconciler(deps).start(intervalMs, () => !ENDED_STATES.includes(worker.getState()));
}

import {
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { msNumberToTs, tsToMs } from '@temporalio/common';
import { toMillis } from '../../definitions/duration.js';
import { AppError, unavailable } from '../../shared/errors.js';
import type { TriggerRow } from '../../db/triggers-repo.js';
import { RUN_WORKFLOW_TYPE } from '../../temporal/run-closure.js';
import { TENANT, WORKFLOW_ID } from '../../workflows/search-attributes.js';
import type { ScheduledRunStart } from '../../workflows/run-model.js';
import type { OverlapPolicy, ScheduleSettings } from '../../definitions/schedule-trigger.js';

/** The Temporal Schedule of a trigger: one per trigger, named after it (`temporal schedule describe -s trigger-<id>`). */
export const scheduleId = (triggerId: string) => `trigger-${triggerId}`;

/**
 * The workflow id a schedule's action names. Temporal appends the firing's scheduled time, so a
 * run's id is `run-<triggerId>-<time>` (`run-5b1c…-2026-12-07T09:00:00Z`): derived from (trigger,
 * scheduled time), the same however often the firing is attempted, and unique per firing.
 */
export const scheduledRunPrefix = (triggerId: string) => `run-${triggerId}`;

/**
 * `temporal server start-dev` arguments that let schedules start their runs on time. The server
 * runs every schedule as a workflow of its own per-namespace worker, which polls with 2 workflow
 * task pollers (about 8 firings a second) and starts at most
 * `worker.schedulerNamespaceStartWorkflowRPS` workflows a second (30): 1,000 schedules firing at
 * one minute's turn would start over minutes. Self-hosted servers set the same keys in their
 * dynamic config (Temporal's rule of thumb: one workflow task poller per 4 firings a second).
 */
export const devServerScheduleArgs = (perSecond = 2000, pollers = 64): string[] => [
  '--dynamic-config-value',
  `worker.schedulerNamespaceStartWorkflowRPS=${perSecond}`,
  '--dynamic-config-value',
  `worker.perNamespaceWorkerOptions=${JSON.stringify({
    MaxConcurrentWorkflowTaskPollers: pollers,
    MaxConcurrentActivityTaskPollers: Math.ceil(pollers / 4),
  })}`,
];

export const OVERLAP: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
};

const optionalDate = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));

/**
 * A trigger's settings as a Temporal Schedule's spec, action and policies. The action starts the
 * run itself (the interpreter, told which trigger fired: it reads the trigger and the version to
 * run when it fires), so a firing costs one execution and the overlap policy applies to runs.
 */
export function scheduleParts(
  trigger: Pick<TriggerRow, 'id' | 'tenantId' | 'workflowId'>,
  settings: ScheduleSettings,
  taskQueue: string,
) {
  const args: [ScheduledRunStart] = [{ scheduled: { tenantId: trigger.tenantId, triggerId: trigger.id } }];
  return {
    spec: {
      ...(settings.cron !== undefined ? { cronExpressions: [settings.cron] } : {}),
      ...(settings.every !== undefined ? { intervals: [{ every: settings.every }] } : {}),
      timezone: settings.timezone,
      jitter: settings.jitter,
      startAt: optionalDate(settings.startAt),
      endAt: optionalDate(settings.endAt),
    },
    action: {
      type: 'startWorkflow' as const,
      workflowType: RUN_WORKFLOW_TYPE,
      workflowId: scheduledRunPrefix(trigger.id),
      taskQueue,
      args,
      // The tenant and workflow are known now; the version is set by the run once it read it.
      typedSearchAttributes: [
        { key: TENANT, value: trigger.tenantId },
        { key: WORKFLOW_ID, value: trigger.workflowId },
      ],
      staticSummary: `schedule ${trigger.id}`,
    },
    policies: {
      overlap: OVERLAP[settings.overlap ?? 'skip'],
      ...(settings.catchupWindow !== undefined ? { catchupWindow: settings.catchupWindow } : {}),
    },
  } satisfies Omit<ScheduleOptions, 'scheduleId'>;
}

/** gRPC's status code for a request the server refuses as malformed. */
const INVALID_ARGUMENT = 3;
const invalidTrigger = (why: string) =>
  new AppError({ code: 'INVALID_TRIGGER', message: `the schedule is invalid: ${why}`, httpStatus: 400 });

/** Temporal's own verdict on a spec (a cron it cannot read, a catch-up window below its minimum) is the caller's mistake. */
function scheduleError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof TypeError) return invalidTrigger(err.message);
  const cause = err instanceof Error ? err.cause : undefined;
  if (isGrpcServiceError(cause) && cause.code === INVALID_ARGUMENT) return invalidTrigger(cause.details);
  return unavailable('Temporal', err);
}

/** Creates a trigger's schedule; one that exists already (the reconciler was first) is rewritten to the row. */
export async function createSchedule(client: Client, trigger: TriggerRow, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: scheduleId(trigger.id),
      ...scheduleParts(trigger, trigger.config, taskQueue),
      state: { paused: trigger.paused },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return updateSchedule(client, trigger, taskQueue);
    throw scheduleError(err);
  }
}

export async function updateSchedule(client: Client, trigger: TriggerRow, taskQueue: string): Promise<void> {
  await client.schedule
    .getHandle(scheduleId(trigger.id))
    .update((previous) => ({
      ...previous,
      ...scheduleParts(trigger, trigger.config, taskQueue),
      state: { ...previous.state, paused: trigger.paused },
    }))
    .catch((err: unknown) => Promise.reject(scheduleError(err)));
}

/** Deletes a trigger's schedule; one already gone is fine. */
export async function deleteSchedule(client: Client, triggerId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId(triggerId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw unavailable('Temporal', err);
  }
}

/** What Temporal says of a schedule: its next 10 fire times, its recent firings, whether it is paused. */
export async function describeSchedule(client: Client, triggerId: string) {
  try {
    const d = await client.schedule.getHandle(scheduleId(triggerId)).describe();
    return {
      nextFireTimes: d.info.nextActionTimes.slice(0, 10).map((t) => t.toISOString()),
      recentFirings: d.info.recentActions.map((a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        takenAt: a.takenAt.toISOString(),
        triggerWorkflowId: a.action.workflow.workflowId,
      })),
      paused: d.state.paused,
    };
  } catch (err) {
    throw err instanceof ScheduleNotFoundError
      ? new AppError({
          code: 'SCHEDULE_MISSING',
          message: `the schedule of trigger '${triggerId}' is missing in Temporal`,
          httpStatus: 503,
          retryable: true,
        })
      : unavailable('Temporal', err);
  }
}

export async function pauseSchedule(client: Client, triggerId: string, paused: boolean): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId(triggerId));
  await (paused ? handle.pause('paused through the API') : handle.unpause('resumed through the API')).catch(
    (err: unknown) => Promise.reject(scheduleError(err)),
  );
}

/** Fires the schedule now, whatever its overlap policy says. */
export async function fireSchedule(client: Client, triggerId: string): Promise<void> {
  await client.schedule
    .getHandle(scheduleId(triggerId))
    .trigger(ScheduleOverlapPolicy.ALLOW_ALL)
    .catch((err: unknown) => Promise.reject(scheduleError(err)));
}

/** Takes every firing the schedule would have had in [from, to). */
export async function backfillSchedule(
  client: Client,
  triggerId: string,
  range: { from: Date; to: Date; overlap: OverlapPolicy },
): Promise<void> {
  await client.schedule
    .getHandle(scheduleId(triggerId))
    .backfill({ start: range.from, end: range.to, overlap: OVERLAP[range.overlap] })
    .catch((err: unknown) => Promise.reject(scheduleError(err)));
}

/** How many times Temporal lists per ListScheduleMatchingTimes call, at most. */
const MATCHING_TIMES_PAGE = 1000;

/**
 * How many firings a backfill of [from, to] would take, counted up to `max + 1` (a larger count
 * only says "too many"). An `every` schedule's count is computed (its firings are the multiples of
 * the interval since the epoch); a cron's is enumerated by Temporal, a page of 1,000 at a time,
 * and the enumeration stops past `max`, so a century of seconds costs no more than a few calls.
 */
export async function countFirings(
  client: Client,
  trigger: TriggerRow,
  range: { from: Date; to: Date },
  max: number,
): Promise<number> {
  const { startAt, endAt, every } = trigger.config;
  const from = Math.max(range.from.getTime(), startAt ? Date.parse(startAt) : -Infinity);
  const to = Math.min(range.to.getTime(), endAt ? Date.parse(endAt) : Infinity);
  if (from > to) return 0;
  if (every !== undefined) {
    const step = toMillis(every);
    return Math.min(max + 1, Math.max(0, Math.floor(to / step) - Math.ceil(from / step) + 1));
  }
  let counted = 0;
  let cursor = from - 1;
  while (counted <= max) {
    const { startTime } = await client.workflowService
      .listScheduleMatchingTimes({
        namespace: client.options.namespace,
        scheduleId: scheduleId(trigger.id),
        startTime: msNumberToTs(cursor),
        endTime: msNumberToTs(to),
      })
      .catch((err: unknown) => Promise.reject(scheduleError(err)));
    const times = startTime ?? [];
    counted += times.length;
    const last = times.at(-1);
    if (times.length < MATCHING_TIMES_PAGE || !last) break;
    cursor = tsToMs(last);
  }
  return Math.min(counted, max + 1);
}

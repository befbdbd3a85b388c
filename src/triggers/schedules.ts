import {
  isGrpcServiceError,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { AppError, unavailable } from '../shared/errors.js';
import type { TriggerRow } from '../db/triggers-repo.js';
import type { OverlapPolicy, ScheduleSettings } from './schema.js';

/** The workflow a schedule's action starts; it starts the run itself (see scheduled-trigger.ts). */
export const SCHEDULED_TRIGGER_WORKFLOW = 'scheduledTrigger';

/** What a schedule's action passes on: which trigger fired. The firing reads the rest from the database. */
export interface ScheduledTriggerArgs {
  tenantId: string;
  triggerId: string;
}

/** The Temporal Schedule of a trigger: one per trigger, named after it (`temporal schedule describe -s trigger-<id>`). */
export const scheduleId = (triggerId: string) => `trigger-${triggerId}`;

export const OVERLAP: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
};

const optionalDate = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));

/** A trigger's settings as a Temporal Schedule's spec, action and policies. */
function scheduleParts(trigger: Pick<TriggerRow, 'id' | 'tenantId'>, settings: ScheduleSettings, taskQueue: string) {
  const args: [ScheduledTriggerArgs] = [{ tenantId: trigger.tenantId, triggerId: trigger.id }];
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
      workflowType: SCHEDULED_TRIGGER_WORKFLOW,
      workflowId: scheduleId(trigger.id),
      taskQueue,
      args,
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

export async function createSchedule(client: Client, trigger: TriggerRow, taskQueue: string): Promise<void> {
  await client.schedule
    .create({
      scheduleId: scheduleId(trigger.id),
      ...scheduleParts(trigger, trigger.config, taskQueue),
      state: { paused: trigger.paused },
    })
    .catch((err: unknown) => Promise.reject(scheduleError(err)));
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

import type { Client } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import type { AnyTriggerRow, TriggerQueries, TriggerRow, TriggersRepo } from '../db/triggers-repo.js';
import { archived, type WorkflowsRepo } from '../db/workflows-repo.js';
import { AppError, issueProblems } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { recordStart } from './kafka/start-offsets.js';
import {
  applyPatch,
  ScheduleSettingsSchema,
  type ScheduleSettings,
  type TriggerPatch,
} from '../definitions/schedule-trigger.js';
import { createSchedule, deleteSchedule, pauseSchedule, updateSchedule } from './schedule/temporal-schedules.js';

export interface TriggerDeps {
  triggers: TriggersRepo;
  workflows: WorkflowsRepo;
  temporal: Client;
  taskQueue: string;
  /** The broker of Kafka triggers, when configured here: a trigger's start is its topic's end offsets when it is saved. */
  kafka?: Kafka;
  logger: Logger;
  /** TENANT_MAX_TRIGGERS. */
  maxTriggers: number;
}

/** A pinned version must exist; a trigger of an archived workflow would never fire. */
export async function assertRunnable(
  deps: TriggerDeps,
  tenantId: string,
  workflowId: string,
  version: number | undefined,
): Promise<void> {
  const latest = await deps.workflows.get(tenantId, workflowId);
  if (latest.archivedAt) throw archived(workflowId);
  if (version !== undefined) await deps.workflows.get(tenantId, workflowId, version);
}

/** Refuses a tenant's trigger past TENANT_MAX_TRIGGERS (schedules and Kafka together). */
export async function assertTriggerRoom(
  deps: Pick<TriggerDeps, 'maxTriggers'>,
  triggers: Pick<TriggerQueries, 'countForTenant'>,
  tenantId: string,
): Promise<void> {
  const count = await triggers.countForTenant(tenantId);
  if (count >= deps.maxTriggers)
    throw new AppError({
      code: 'TOO_MANY_TRIGGERS',
      message: `the tenant has ${count} triggers, the most it may have (TENANT_MAX_TRIGGERS=${deps.maxTriggers}); delete one first`,
      httpStatus: 409,
      details: { limit: deps.maxTriggers },
    });
}

/**
 * The row is the truth: it is written first, in a transaction, and the Temporal Schedule second,
 * inside it; the row commits only once the schedule is written, and rolls back when the schedule
 * write fails. Should the commit itself fail after the schedule was written, `undo` puts the
 * schedule back as the row still says (the schedule reconciler repairs whatever that misses).
 */
async function rowThenSchedule<T>(
  deps: TriggerDeps,
  row: (tx: TriggerQueries) => Promise<T>,
  schedule: (written: T) => Promise<void>,
  undo: (written: T) => Promise<void>,
): Promise<T> {
  let scheduled: { written: T } | undefined;
  try {
    return await deps.triggers.transaction(async (tx) => {
      const written = await row(tx);
      await schedule(written);
      scheduled = { written };
      return written;
    });
  } catch (err) {
    if (scheduled) await undo(scheduled.written).catch(() => undefined);
    throw err;
  }
}

/**
 * Stores a schedule trigger, then creates its Temporal Schedule; when Temporal refuses or cannot
 * be reached, the row goes again. The row commits first (a short transaction that counts the
 * tenant's triggers under a lock, so creations do not wait on each other's Temporal calls): a row
 * without its schedule yet fires nothing, and the schedule reconciler would create the schedule
 * the same way should this process die in between.
 */
export async function createTrigger(
  deps: TriggerDeps,
  tenantId: string,
  workflowId: string,
  settings: ScheduleSettings,
): Promise<TriggerRow> {
  await assertRunnable(deps, tenantId, workflowId, settings.version);
  const trigger = await deps.triggers.transaction(async (tx) => {
    await tx.lockTenant(tenantId);
    await assertTriggerRoom(deps, tx, tenantId);
    return tx.create(tenantId, workflowId, settings);
  });
  try {
    await createSchedule(deps.temporal, trigger, deps.taskQueue);
  } catch (err) {
    await deps.triggers.remove(tenantId, trigger.id);
    throw err;
  }
  return trigger;
}

const notSchedule = (id: string) =>
  new AppError({ code: 'INVALID_TRIGGER', message: `trigger '${id}' is not a schedule`, httpStatus: 400 });

/** The patched settings, or INVALID_TRIGGER with a pointer to each problem. */
function patched(current: TriggerRow, patch: TriggerPatch): ScheduleSettings {
  const parsed = ScheduleSettingsSchema.safeParse(applyPatch(current.config, patch));
  if (parsed.success) return parsed.data;
  const details = issueProblems(parsed.error.issues);
  throw new AppError({ code: 'INVALID_TRIGGER', message: 'the patched trigger is invalid', httpStatus: 400, details });
}

/** Changes a trigger's settings: the row first, then the schedule (see `rowThenSchedule`). */
export async function patchTrigger(
  deps: TriggerDeps,
  tenantId: string,
  id: string,
  patch: TriggerPatch,
): Promise<TriggerRow> {
  const probe = await deps.triggers.get(tenantId, id);
  if (probe.type !== 'schedule') throw notSchedule(id);
  await assertRunnable(deps, tenantId, probe.workflowId, patched(probe, patch).version);
  let before: TriggerRow | undefined;
  return rowThenSchedule(
    deps,
    async (tx) => {
      const current = await tx.lock(tenantId, id);
      if (current.type !== 'schedule') throw notSchedule(id);
      before = current;
      const config = patched(current, patch);
      return { ...(await tx.update(tenantId, id, { config })), type: 'schedule' as const, config };
    },
    (trigger) => updateSchedule(deps.temporal, trigger, deps.taskQueue),
    async () => {
      if (before) await updateSchedule(deps.temporal, before, deps.taskQueue);
    },
  );
}

/**
 * Pauses or resumes a trigger. A Kafka trigger has no schedule: the trigger service takes no
 * message for it while it is paused, and a resumed one starts anew at its topic's end (the
 * messages of its pause start nothing).
 */
export async function setTriggerPaused(
  deps: TriggerDeps,
  tenantId: string,
  id: string,
  paused: boolean,
): Promise<AnyTriggerRow> {
  const probe = await deps.triggers.get(tenantId, id);
  const resumed = probe.type === 'kafka' && probe.paused && !paused;
  const start = resumed ? { offsets: await recordStart(deps.kafka, probe.config.topic, deps.logger) } : undefined;
  return rowThenSchedule(
    deps,
    async (tx) => {
      await tx.lock(tenantId, id);
      return tx.update(tenantId, id, { paused, start });
    },
    async (trigger) => {
      if (trigger.type === 'schedule') await pauseSchedule(deps.temporal, id, paused);
    },
    async (trigger) => {
      if (trigger.type === 'schedule') await pauseSchedule(deps.temporal, id, !paused);
    },
  );
}

/** Deletes the row, then the schedule (see `rowThenSchedule`); a schedule already gone is fine. */
export async function deleteTrigger(deps: TriggerDeps, tenantId: string, id: string): Promise<void> {
  await rowThenSchedule(
    deps,
    async (tx) => {
      const trigger = await tx.lock(tenantId, id);
      await tx.remove(tenantId, id);
      return trigger;
    },
    async (trigger) => {
      if (trigger.type === 'schedule') await deleteSchedule(deps.temporal, id);
    },
    async (trigger) => {
      if (trigger.type === 'schedule') await createSchedule(deps.temporal, trigger, deps.taskQueue);
    },
  );
}

/** Archiving a workflow stops its triggers: their schedules and rows are deleted. */
export async function deleteWorkflowTriggers(deps: TriggerDeps, tenantId: string, workflowId: string): Promise<void> {
  for (const trigger of await deps.triggers.listForWorkflow(tenantId, workflowId))
    await deleteTrigger(deps, tenantId, trigger.id);
}

export const triggerDeps = (deps: {
  triggers: TriggersRepo;
  workflows: WorkflowsRepo;
  temporal: Client;
  config: { TEMPORAL_TASK_QUEUE: string; TENANT_MAX_TRIGGERS: number };
  kafka?: Kafka;
  logger: Logger;
}): TriggerDeps => ({
  triggers: deps.triggers,
  workflows: deps.workflows,
  temporal: deps.temporal,
  taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
  kafka: deps.kafka,
  logger: deps.logger,
  maxTriggers: deps.config.TENANT_MAX_TRIGGERS,
});

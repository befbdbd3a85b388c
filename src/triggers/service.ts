import type { Client } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import type { AnyTriggerRow, TriggerRow, TriggersRepo } from '../db/triggers-repo.js';
import { archived, type WorkflowsRepo } from '../db/workflows-repo.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { recordStart } from './kafka-start-offsets.js';
import { applyPatch, ScheduleSettingsSchema, type ScheduleSettings, type TriggerPatch } from './schema.js';
import { createSchedule, deleteSchedule, pauseSchedule, updateSchedule } from './schedules.js';

export interface TriggerDeps {
  triggers: TriggersRepo;
  workflows: WorkflowsRepo;
  temporal: Client;
  taskQueue: string;
  /** The broker of Kafka triggers, when configured here: a trigger's start is its topic's end offsets when it is saved. */
  kafka?: Kafka;
  logger: Logger;
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

/**
 * Stores a schedule trigger and creates its Temporal Schedule. The row comes first (a firing
 * reads it); when Temporal refuses or cannot be reached, the row goes again.
 */
export async function createTrigger(
  deps: TriggerDeps,
  tenantId: string,
  workflowId: string,
  settings: ScheduleSettings,
): Promise<TriggerRow> {
  await assertRunnable(deps, tenantId, workflowId, settings.version);
  const trigger = await deps.triggers.create(tenantId, workflowId, settings);
  try {
    await createSchedule(deps.temporal, trigger, deps.taskQueue);
  } catch (err) {
    await deps.triggers.remove(tenantId, trigger.id);
    throw err;
  }
  return trigger;
}

/** Changes a trigger's settings; the schedule is rewritten first, so the row never says what Temporal does not do. */
export async function patchTrigger(
  deps: TriggerDeps,
  tenantId: string,
  id: string,
  patch: TriggerPatch,
): Promise<TriggerRow> {
  const current = await deps.triggers.get(tenantId, id);
  if (current.type !== 'schedule')
    throw new AppError({ code: 'INVALID_TRIGGER', message: `trigger '${id}' is not a schedule`, httpStatus: 400 });
  const parsed = ScheduleSettingsSchema.safeParse(applyPatch(current.config, patch));
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      pointer: `/${i.path.map(String).join('/')}`,
      message: i.message,
    }));
    throw new AppError({
      code: 'INVALID_TRIGGER',
      message: 'the patched trigger is invalid',
      httpStatus: 400,
      details,
    });
  }
  await assertRunnable(deps, tenantId, current.workflowId, parsed.data.version);
  await updateSchedule(deps.temporal, { ...current, config: parsed.data }, deps.taskQueue);
  return {
    ...(await deps.triggers.update(tenantId, id, { config: parsed.data })),
    type: 'schedule',
    config: parsed.data,
  };
}

/**
 * A Kafka trigger has no schedule: the trigger service takes no message for it while it is paused,
 * and a resumed one starts anew at its topic's end (the messages of its pause start nothing).
 */
export async function setTriggerPaused(
  deps: TriggerDeps,
  tenantId: string,
  id: string,
  paused: boolean,
): Promise<AnyTriggerRow> {
  const trigger = await deps.triggers.get(tenantId, id);
  if (trigger.type === 'schedule') await pauseSchedule(deps.temporal, id, paused);
  const resumed = trigger.type === 'kafka' && trigger.paused && !paused;
  const start = resumed ? { offsets: await recordStart(deps.kafka, trigger.config.topic, deps.logger) } : undefined;
  return deps.triggers.update(tenantId, id, { paused, start });
}

/** Deletes the schedule, then the row: a failure in between leaves a row to delete again, never a schedule without one. */
export async function deleteTrigger(deps: TriggerDeps, tenantId: string, id: string): Promise<void> {
  const trigger = await deps.triggers.get(tenantId, id);
  if (trigger.type === 'schedule') await deleteSchedule(deps.temporal, id);
  await deps.triggers.remove(tenantId, id);
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
  config: { TEMPORAL_TASK_QUEUE: string };
  kafka?: Kafka;
  logger: Logger;
}): TriggerDeps => ({
  triggers: deps.triggers,
  workflows: deps.workflows,
  temporal: deps.temporal,
  taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
  kafka: deps.kafka,
  logger: deps.logger,
});

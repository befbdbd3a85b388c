import type { KafkaTriggerRow } from '../db/triggers-repo.js';
import { AppError } from '../shared/errors.js';
import { applyKafkaPatch, KafkaPatchSchema, type KafkaSettings } from './kafka-schema.js';
import { assertRunnable, assertTriggerRoom, type TriggerDeps } from './service.js';

/**
 * Stores a Kafka trigger. Nothing else is created: the trigger service reads the active Kafka
 * triggers every few seconds and subscribes to their topics.
 */
export async function createKafkaTrigger(
  deps: TriggerDeps,
  tenantId: string,
  workflowId: string,
  settings: KafkaSettings,
): Promise<KafkaTriggerRow> {
  await assertRunnable(deps, tenantId, workflowId, settings.version);
  await assertTriggerRoom(deps, deps.triggers, tenantId);
  return deps.triggers.createKafka(tenantId, workflowId, settings);
}

/** Changes a Kafka trigger's topic, filter, key or pinned version; schedule fields are refused. */
export async function patchKafkaTrigger(
  deps: TriggerDeps,
  current: KafkaTriggerRow,
  patch: Record<string, unknown>,
): Promise<KafkaTriggerRow> {
  const parsed = KafkaPatchSchema.safeParse(patch);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      pointer: `/${i.path.map(String).join('/')}`,
      message: i.message,
    }));
    throw new AppError({
      code: 'INVALID_TRIGGER',
      message: 'the patch does not fit a Kafka trigger',
      httpStatus: 400,
      details,
    });
  }
  const config = applyKafkaPatch(current.config, parsed.data);
  await assertRunnable(deps, current.tenantId, current.workflowId, config.version);
  const row = await deps.triggers.update(current.tenantId, current.id, { config });
  return { ...row, type: 'kafka', config };
}

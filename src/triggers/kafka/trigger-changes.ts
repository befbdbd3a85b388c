import type { TopicAccess } from '../../activities/kafka/topic-access.js';
import type { KafkaTriggerRow } from '../../db/triggers-repo.js';
import { AppError, issueProblems } from '../../shared/errors.js';
import { applyKafkaPatch, KafkaPatchSchema, type KafkaSettings } from '../../definitions/kafka-trigger.js';
import { recordStart } from './start-offsets.js';
import { assertRunnable, assertTriggerRoom, type TriggerDeps } from '../trigger-changes.js';

/** What Kafka triggers need beside every trigger's: the tenant's topics. */
export type KafkaTriggerDeps = TriggerDeps & { topics: TopicAccess };

/**
 * Stores a Kafka trigger on one of the tenant's topics, with its start: the end offset of every partition of its topic, read
 * before the row is written, so each message produced after the `201` is at or past it (see
 * recordStart for a broker that does not answer). Nothing else is created: the trigger service
 * reads the active Kafka triggers and subscribes to their topics.
 */
export async function createKafkaTrigger(
  deps: KafkaTriggerDeps,
  tenantId: string,
  workflowId: string,
  settings: KafkaSettings,
): Promise<KafkaTriggerRow> {
  await deps.topics.check(tenantId, settings.topic);
  await assertRunnable(deps, tenantId, workflowId, settings.version);
  await assertTriggerRoom(deps, deps.triggers, tenantId);
  const start = await recordStart(deps.kafka, settings.topic, deps.logger);
  return deps.triggers.createKafka(tenantId, workflowId, settings, start);
}

/** Changes a Kafka trigger's topic, filter, key or pinned version; schedule fields are refused. On another topic it starts anew at that topic's end. */
export async function patchKafkaTrigger(
  deps: KafkaTriggerDeps,
  current: KafkaTriggerRow,
  patch: Record<string, unknown>,
): Promise<KafkaTriggerRow> {
  const parsed = KafkaPatchSchema.safeParse(patch);
  if (!parsed.success) {
    const details = issueProblems(parsed.error.issues);
    throw new AppError({
      code: 'INVALID_TRIGGER',
      message: 'the patch does not fit a Kafka trigger',
      httpStatus: 400,
      details,
    });
  }
  const config = applyKafkaPatch(current.config, parsed.data);
  if (parsed.data.topic !== undefined) await deps.topics.check(current.tenantId, config.topic);
  await assertRunnable(deps, current.tenantId, current.workflowId, config.version);
  const moved = config.topic !== current.config.topic;
  const start = moved ? { offsets: await recordStart(deps.kafka, config.topic, deps.logger) } : undefined;
  const row = await deps.triggers.update(current.tenantId, current.id, { config, start });
  if (row.type !== 'kafka')
    throw new AppError({ code: 'INTERNAL', message: `trigger '${row.id}' is not a Kafka trigger` });
  return { ...row, config };
}

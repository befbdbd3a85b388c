import type { Logger } from '../shared/logger.js';
import { triggerRun, type TriggerDeps, type TriggerResult } from '../api/trigger.js';
import type { KafkaTriggerRow } from '../db/triggers-repo.js';
import type { RunSource } from '../workflows/messages.js';
import type { TriggerMessage } from './kafka-message.js';

/**
 * Starts a Kafka trigger's run for a message, through the path every trigger takes. Its id
 * derives from (trigger, identity) and Temporal refuses a second start of one id, so the trigger
 * service and a re-drive through the API start the same run, once.
 */
export function startKafkaRun(
  deps: TriggerDeps,
  trigger: KafkaTriggerRow,
  message: TriggerMessage,
  identity: string,
  logger: Logger,
): Promise<TriggerResult> {
  const source: RunSource = {
    type: 'kafka',
    triggerId: trigger.id,
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
  };
  return triggerRun(
    deps,
    {
      tenantId: trigger.tenantId,
      workflowId: trigger.workflowId,
      version: trigger.version ?? undefined,
      payload: message,
      idempotencyKey: `kafka\n${trigger.id}\n${identity}`,
      source,
    },
    logger,
  );
}

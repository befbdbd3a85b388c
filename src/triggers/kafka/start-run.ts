import type { Repos } from '../../db/repos.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { triggerRun, type StartRunDeps, type TriggerResult } from '../../runs/start-run.js';
import type { KafkaTriggerRow } from '../../db/triggers-repo.js';
import type { RunSource } from '../../workflows/run-model.js';
import type { TriggerMessage } from './message.js';

/** What the trigger service and a re-drive need: start runs, read triggers, keep dead letters. */
export type KafkaRunDeps = StartRunDeps &
  Pick<Repos, 'triggers' | 'kafkaDeadLetters' | 'topicGrants'> & {
    config: StartRunDeps['config'] &
      Pick<Config, 'API_JSON_MAX_DEPTH' | 'KAFKA_DLQ_TOPIC' | 'KAFKA_TENANT_TOPIC_PREFIX' | 'KAFKA_TOPIC_GRANTS'>;
  };

/**
 * Starts a Kafka trigger's run for a message, through the path every trigger takes. Its id
 * derives from (trigger, identity) and Temporal refuses a second start of one id, so the trigger
 * service and a re-drive through the API start the same run, once.
 */
export function startKafkaRun(
  deps: StartRunDeps,
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

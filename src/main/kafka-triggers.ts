import type { Process } from '../bootstrap.js';
import type { Logger } from '../shared/logger.js';
import { createKafka } from '../triggers/kafka/client.js';
import { createKafkaMetrics } from '../triggers/kafka/metrics.js';
import { startKafkaService, type KafkaService } from '../triggers/kafka/consumer.js';

/**
 * The Kafka trigger service inside a bootstrapped process (`npm run triggers`, or `npm run dev`
 * when KAFKA_BROKERS is set); its metrics join the process's registry.
 */
export function startKafkaTriggers(app: Process, logger: Logger): Promise<KafkaService> {
  const { config } = app;
  return startKafkaService({
    api: app.deps,
    triggers: app.repos.triggers,
    config,
    kafka: createKafka(config, logger),
    logger,
    metrics: createKafkaMetrics(app.metrics.registry),
  });
}

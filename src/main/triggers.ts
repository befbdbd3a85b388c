import { createServer } from 'node:http';
import { bootstrap } from '../bootstrap.js';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { startKafkaTriggers } from './kafka-triggers.js';

/** The trigger service (`npm run triggers`): consumes the topics of Kafka triggers and starts their runs. Needs KAFKA_BROKERS, DATABASE_URL and Temporal. */
const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL, 'triggers');
if (!config.KAFKA_BROKERS || !config.DATABASE_URL) {
  logger.fatal('the trigger service needs KAFKA_BROKERS and DATABASE_URL');
  process.exit(1);
}
const app = await bootstrap(config, { logger, service: 'mini-zaps-triggers' });
const service = await startKafkaTriggers(app, logger);

// TRIGGERS_METRICS_PORT=0 turns it off.
const metricsServer = config.TRIGGERS_METRICS_PORT
  ? createServer(
      (_req, res) =>
        void app.metrics.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': app.metrics.registry.contentType }).end(text)),
    ).listen(config.TRIGGERS_METRICS_PORT, '127.0.0.1')
  : undefined;
metricsServer?.on('error', (err) => logger.warn({ err }, 'trigger service metrics endpoint unavailable'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (async () => {
      await service.stop();
      metricsServer?.close();
      await app.stop();
      logger.info('trigger service stopped');
      process.exit(0);
    })();
  });
}

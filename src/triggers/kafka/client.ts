import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Config } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

export type KafkaSettingsConfig = Pick<
  Config,
  | 'KAFKA_BROKERS'
  | 'KAFKA_CLIENT_ID'
  | 'KAFKA_TLS'
  | 'KAFKA_TLS_CA_FILE'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
>;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

function sasl(config: KafkaSettingsConfig): SASLOptions | undefined {
  if (!config.KAFKA_SASL_MECHANISM) return undefined;
  if (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD) {
    throw new AppError({
      code: 'KAFKA_SASL_INCOMPLETE',
      message: 'KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)',
    });
  }
  const credentials = { username: config.KAFKA_SASL_USERNAME, password: config.KAFKA_SASL_PASSWORD };
  return config.KAFKA_SASL_MECHANISM === 'plain'
    ? { mechanism: 'plain', ...credentials }
    : config.KAFKA_SASL_MECHANISM === 'scram-sha-256'
      ? { mechanism: 'scram-sha-256', ...credentials }
      : { mechanism: 'scram-sha-512', ...credentials };
}

/**
 * The Kafka client of `KAFKA_BROKERS`, with TLS and SASL as configured; kafkajs logs through pino.
 * @example const kafka = createKafka(config, logger); const admin = kafka.admin();
 */
export function createKafka(config: KafkaSettingsConfig, logger: Logger): Kafka {
  const brokers = (config.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (!brokers.length)
    throw new AppError({
      code: 'KAFKA_BROKERS_REQUIRED',
      message: 'KAFKA_BROKERS is required (comma-separated host:port)',
    });
  const ssl = config.KAFKA_TLS
    ? config.KAFKA_TLS_CA_FILE
      ? { ca: [readFileSync(config.KAFKA_TLS_CA_FILE, 'utf8')] }
      : true
    : undefined;
  const kafkaConfig: KafkaConfig = {
    clientId: config.KAFKA_CLIENT_ID,
    brokers,
    ssl,
    sasl: sasl(config),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, ...extra } = log;
        logger[LEVELS[level] ?? 'info']({ namespace, ...extra }, `kafka: ${message}`);
      },
  };
  return new Kafka(kafkaConfig);
}

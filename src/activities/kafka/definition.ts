import { z } from 'zod';
import { defineConnector, type ConnectorDeps } from '../define-connector.js';
import { createKafkaExecute } from './activity.js';
import { kafkaConnection } from './connection.js';
import { createTopicAccess, DEFAULT_TOPIC_RULES } from './topic-access.js';

/**
 * Config of the `kafka` step: one message produced to `topic`.
 * @example { "topic": "acme.signups", "key": "{{ trigger.email }}", "value": { "email": "{{ trigger.email }}" } }
 */
export const KafkaConfigSchema = z.strictObject({
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a topic is 1-249 characters of A-Z, a-z, 0-9, . _ -'),
  key: z.string().max(10_000).optional(),
  /** A string is sent as it is; anything else as JSON. */
  value: z.unknown(),
  headers: z.record(z.string(), z.string()).default({}),
  partition: z.int().min(0).optional(),
});
export type KafkaConfig = z.output<typeof KafkaConfigSchema>;

/** `kafka`: produces one message with the idempotent producer. */
export const kafkaConnector = defineConnector({
  type: 'kafka',
  description:
    'Produces one message to a topic of a `kafka` connection: key, value (JSON unless a string), headers, partition. Idempotent producer, acks from all in-sync replicas; ' +
    "the message carries an `idempotency-key` header. The topic is one of the tenant's (its prefix or a grant; KAFKA_TOPIC_FORBIDDEN otherwise). Output `{topic, partition, offset}`. Refused credentials (KAFKA_AUTH_FAILED) are not retried; a cluster that is down is.",
  configSchema: KafkaConfigSchema,
  defaults: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  },
  example: {
    connection: 'events',
    config: { topic: 'acme.signups', key: '{{ trigger.email }}', value: { email: '{{ trigger.email }}' } },
  },
  connection: { kind: kafkaConnection, required: true },
  create: (deps: ConnectorDeps) =>
    createKafkaExecute(deps.allowlist, deps.topics ?? createTopicAccess(DEFAULT_TOPIC_RULES), deps.reserved),
});

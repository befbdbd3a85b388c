import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { untilAborted } from '../abort.js';
import { defineConnectionKind } from '../connection-kind.js';
import { createHostGuard, type HostGuard } from '../host-guard.js';
import type { AppError } from '../../shared/errors.js';
import { kafkaError } from './errors.js';
import { guardedSocketFactory } from './socket.js';

const schema = (secret: z.ZodString) =>
  z.strictObject({
    brokers: z
      .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'a broker is host:port'))
      .min(1)
      .max(20),
    clientId: z.string().min(1).max(100).default('mini-zaps'),
    ssl: z.boolean().default(false),
    sasl: z
      .strictObject({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: secret,
      })
      .optional(),
  });

/**
 * A `kafka` connection: the cluster's bootstrap brokers and how to authenticate.
 * @example { "brokers": ["kafka-1.example.com:9092"], "ssl": true, "sasl": { "mechanism": "scram-sha-512", "username": "zaps", "password": "$secret('kafka_pw')" } }
 */
export const kafkaConnection = defineConnectionKind({
  type: 'kafka',
  description: 'An Apache Kafka cluster: bootstrap brokers, TLS, and SASL (plain, scram-sha-256, scram-sha-512).',
  example: {
    brokers: ['kafka-1.example.com:9092'],
    ssl: true,
    sasl: { mechanism: 'scram-sha-512', username: 'zaps', password: "$secret('kafka_pw')" },
  },
  schema,
  // A metadata request: the cluster answers who its brokers and controller are.
  test: async (config, { signal, deps }) => {
    const client = await kafkaClient(config, createHostGuard(deps.allowlist, deps.reserved));
    const admin = client.kafka.admin();
    try {
      await untilAborted(admin.connect(), signal);
      const cluster = await untilAborted(admin.describeCluster(), signal);
      return { brokers: cluster.brokers.length, controller: cluster.controller, clusterId: cluster.clusterId };
    } catch (err) {
      throw client.refusal() ?? kafkaError(err, signal);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },
});

export type KafkaConnection = z.output<ReturnType<typeof schema>>;

/**
 * A kafkajs client for the connection. Every broker it connects to, bootstrap or advertised, passes
 * the SSRF guard; `refusal()` is the guard's refusal when that is why the client failed.
 */
export async function kafkaClient(
  c: KafkaConnection,
  guard: HostGuard,
): Promise<{ kafka: Kafka; refusal: () => AppError | undefined }> {
  for (const broker of c.brokers) {
    const [host = '', port = '0'] = broker.split(':');
    await guard.resolve(host, Number(port), 'KAFKA');
  }
  const sasl: SASLOptions | undefined = c.sasl && {
    mechanism: c.sasl.mechanism,
    username: c.sasl.username,
    password: c.sasl.password,
  };
  let refused: AppError | undefined;
  const kafka = new Kafka({
    clientId: c.clientId,
    brokers: c.brokers,
    ssl: c.ssl,
    ...(sasl ? { sasl } : {}),
    socketFactory: guardedSocketFactory(guard, (err) => void (refused = err)),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
  return { kafka, refusal: () => refused };
}

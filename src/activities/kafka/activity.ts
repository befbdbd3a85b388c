import type { Producer } from 'kafkajs';
import { AppError } from '../../shared/errors.js';
import { untilAborted } from '../abort.js';
import type { ExecuteContext } from '../connector-attempt.js';
import type { Reserved } from '../reserved.js';
import { createHostGuard } from '../host-guard.js';
import { kafkaClient, type KafkaConnection } from './connection.js';
import type { KafkaConfig } from './definition.js';
import { kafkaError } from './errors.js';
import type { TopicAccess } from './topic-access.js';

/** The step's output. */
export interface KafkaOutput {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Produces the message with an idempotent producer (acks from all in-sync replicas, so a retried
 * send is not written twice within a producer's session). One producer per step attempt: a
 * connection's credentials may change between runs, and steps are short. The topic is checked
 * against the tenant's topics here, at run time, since a templated topic is known only now.
 * @example await createKafkaExecute('', topics)(KafkaConfigSchema.parse({ topic: 'acme.t', value: { a: 1 } }), ctx)
 */
export function createKafkaExecute(allowlist: string, topics: TopicAccess, reserved?: Reserved) {
  const guard = createHostGuard(allowlist, reserved);
  return async (config: KafkaConfig, ctx: ExecuteContext<KafkaConnection>): Promise<KafkaOutput> => {
    if (!ctx.connection)
      throw new AppError({ code: 'CONNECTION_REQUIRED', message: 'a kafka step names a kafka connection' });
    let producer: Producer | undefined;
    let refusal: (() => AppError | undefined) | undefined;
    try {
      await topics.check(ctx.input.tenantId, config.topic);
      const client = await kafkaClient(ctx.connection, guard);
      refusal = client.refusal;
      producer = client.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await untilAborted(producer.connect(), ctx.signal);
      const value = typeof config.value === 'string' ? config.value : JSON.stringify(config.value ?? null);
      const message = {
        key: config.key,
        value,
        headers: { 'idempotency-key': ctx.input.idempotencyKey, ...config.headers },
        ...(config.partition === undefined ? {} : { partition: config.partition }),
      };
      const [sent] = await untilAborted(
        producer.send({ topic: config.topic, messages: [message], acks: -1 }),
        ctx.signal,
      );
      if (!sent)
        throw new AppError({ code: 'KAFKA_UNAVAILABLE', message: 'the cluster acknowledged nothing', retryable: true });
      return { topic: sent.topicName, partition: sent.partition, offset: sent.baseOffset ?? sent.offset ?? '' };
    } catch (err) {
      throw refusal?.() ?? kafkaError(err, ctx.signal);
    } finally {
      await producer?.disconnect().catch(() => undefined);
    }
  };
}

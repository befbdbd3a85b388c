import type { Admin, Consumer, Kafka } from 'kafkajs';
import { createTopicAccess, topicRulesOf } from '../../activities/kafka/topic-access.js';
import type { KafkaRunDeps } from './start-run.js';
import type { KafkaTriggerRow, TriggersRepo } from '../../db/triggers-repo.js';
import type { Config } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { handleBatch, type BatchDeps } from './batch.js';
import type { KafkaMetrics } from './metrics.js';
import { startOn } from './start-offsets.js';
import { createTriggerReader, type TriggerReader } from './trigger-reader.js';

export interface KafkaServiceDeps {
  api: KafkaRunDeps;
  triggers: TriggersRepo;
  config: KafkaRunDeps['config'] &
    Pick<
      Config,
      | 'KAFKA_GROUP_ID'
      | 'KAFKA_MAX_MESSAGE_BYTES'
      | 'KAFKA_BATCH_SIZE'
      | 'KAFKA_REFRESH_MS'
      | 'KAFKA_SESSION_TIMEOUT_MS'
      | 'KAFKA_PARTITIONS_CONCURRENTLY'
    >;
  kafka: Kafka;
  logger: Logger;
  metrics: KafkaMetrics;
}

export interface KafkaService {
  /** Re-reads the active triggers now (and subscribes to new topics); the service also does so every KAFKA_REFRESH_MS. */
  refresh(): Promise<void>;
  /** The topics consumed now. */
  topics(): string[];
  stop(): Promise<void>;
}

/**
 * The Kafka trigger service: one consumer group (KAFKA_GROUP_ID) over the topics of every active
 * Kafka trigger, each message fanned out to every trigger of its topic whose start it is at or past
 * (see batch.ts). The topics are re-read every KAFKA_REFRESH_MS; when they change, the
 * consumer rejoins the group with the new subscription. A topic that does not exist yet is
 * subscribed once it does.
 *
 * A partition is read from the group's committed offset; one the group never committed (a new
 * topic, a crash before the first commit) from its beginning, and in both cases from no earlier than
 * the earliest start of the topic's triggers (seekToStarts), so no message a trigger needs is
 * passed over, and the history no trigger needs is not read.
 *
 * @example
 * const service = await startKafkaService({ api: app.deps, triggers: app.repos.triggers, config, kafka, logger, metrics });
 * process.once('SIGTERM', () => void service.stop());
 */
export async function startKafkaService(deps: KafkaServiceDeps): Promise<KafkaService> {
  const { kafka, logger, config } = deps;
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await admin.connect();
  await producer.connect();
  const reader = createTriggerReader(deps.triggers, admin, logger, allowed);
  const batchDeps: BatchDeps = { api: deps.api, config, logger, metrics: deps.metrics, producer, reader };
  let consumer: Consumer | undefined;
  let subscribed: string[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const missing = new Set<string>();

  async function subscribe(topics: string[]): Promise<void> {
    await consumer?.disconnect();
    consumer = undefined;
    subscribed = topics;
    if (!topics.length) return;
    const maxBytesPerPartition = Math.max(config.KAFKA_MAX_MESSAGE_BYTES + 64 * 1024, 1024 * 1024);
    const next = kafka.consumer({
      groupId: config.KAFKA_GROUP_ID,
      sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.floor(config.KAFKA_SESSION_TIMEOUT_MS / 10),
      maxBytesPerPartition,
      maxBytes: maxBytesPerPartition * 4,
    });
    next.on(next.events.CRASH, ({ payload }) =>
      logger.error({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed'),
    );
    next.on(next.events.GROUP_JOIN, ({ payload }) => {
      seekToStarts({ admin, reader, consumer: next, groupId: config.KAFKA_GROUP_ID }, payload.memberAssignment).catch(
        (err: unknown) =>
          logger.warn({ err }, "seeking to the triggers' starts failed; the partitions are read from their commits"),
      );
    });
    await next.connect();
    // Never the log end: a group without a committed offset must not pass over what its triggers need.
    await next.subscribe({ topics, fromBeginning: true });
    await next.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.KAFKA_PARTITIONS_CONCURRENTLY,
      eachBatch: (payload) => handleBatch(batchDeps, next, payload),
    });
    consumer = next;
    logger.info({ topics, groupId: config.KAFKA_GROUP_ID }, 'kafka triggers consuming');
  }

  const refused = new Set<string>();
  /**
   * The triggers whose topic is still their tenant's: one stored before the topic rules, or whose
   * grant was withdrawn, is left out (logged once) until it is changed or the grant is back. Any
   * other failure (the database) fails the refresh, which keeps the current subscription.
   */
  async function allowed(rows: KafkaTriggerRow[]): Promise<KafkaTriggerRow[]> {
    const grants = new Map<string, Promise<string[]>>();
    const list = (tenantId: string): Promise<string[]> => {
      const known = grants.get(tenantId) ?? deps.api.topicGrants.list(tenantId);
      grants.set(tenantId, known);
      return known;
    };
    const access = createTopicAccess({ ...topicRulesOf(config), stored: { list } });
    const kept: KafkaTriggerRow[] = [];
    for (const row of rows) {
      const denied = await access.check(row.tenantId, row.config.topic).then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof AppError && err.code === 'KAFKA_TOPIC_FORBIDDEN') return err;
          throw err;
        },
      );
      if (!denied) {
        refused.delete(row.id);
        kept.push(row);
      } else if (!refused.has(row.id)) {
        refused.add(row.id);
        logger.warn(
          { triggerId: row.id, tenant: row.tenantId, topic: row.config.topic, reason: denied.message },
          "a Kafka trigger names a topic that is not its tenant's; it is not consumed",
        );
      }
    }
    return kept;
  }

  async function readTriggers(): Promise<void> {
    const wanted = new Set((await reader.read()).map((row) => row.config.topic));
    const existing = new Set(await admin.listTopics());
    const topics = [...wanted].filter((t) => existing.has(t)).sort();
    for (const t of wanted) {
      if (existing.has(t)) missing.delete(t);
      else if (!missing.has(t)) {
        missing.add(t);
        logger.warn({ topic: t }, 'a Kafka trigger names a topic that does not exist yet; it is consumed once it does');
      }
    }
    if (topics.join('\n') !== subscribed.join('\n')) await subscribe(topics);
  }

  // One refresh at a time: two would each rebuild the consumer.
  let running: Promise<void> = Promise.resolve();
  const refresh = (): Promise<void> => (running = running.catch(() => undefined).then(readTriggers));

  const tick = () => {
    timer = setTimeout(() => {
      void refresh()
        .catch((err: unknown) => logger.warn({ err }, 'reading the Kafka triggers failed; trying again'))
        .finally(() => {
          if (!stopped) tick();
        });
    }, config.KAFKA_REFRESH_MS);
  };
  await refresh().catch((err: unknown) => logger.warn({ err }, 'reading the Kafka triggers failed; trying again'));
  tick();
  logger.info({ groupId: config.KAFKA_GROUP_ID }, 'kafka trigger service started');

  return {
    refresh,
    topics: () => [...subscribed],
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await consumer?.disconnect().catch((err: unknown) => logger.warn({ err }, 'kafka consumer disconnect failed'));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}

interface SeekDeps {
  admin: Admin;
  reader: TriggerReader;
  consumer: Consumer;
  groupId: string;
}

/**
 * On joining the group: each partition assigned here whose committed offset (if any) is below the
 * earliest start of its topic's triggers is moved up to that start. The messages passed over are
 * below every trigger's start, and a trigger saved later starts at the log end of its time, past
 * them: they would start nothing. Moving is only ever forward of the commit, so it loses nothing.
 */
async function seekToStarts(deps: SeekDeps, assignment: Record<string, number[]>): Promise<void> {
  const topics = Object.keys(assignment);
  if (!topics.length) return;
  const triggers = await deps.reader.read();
  const committed = await deps.admin.fetchOffsets({ groupId: deps.groupId, topics });
  for (const { topic, partitions } of committed) {
    const mine = triggers.filter((t) => t.config.topic === topic);
    for (const { partition, offset } of partitions) {
      if (!mine.length || !assignment[topic]?.includes(partition)) continue;
      const start = mine.map((t) => startOn(t, partition)).reduce((a, b) => (a < b ? a : b));
      if (start > 0n && start > BigInt(offset)) deps.consumer.seek({ topic, partition, offset: start.toString() });
    }
  }
}

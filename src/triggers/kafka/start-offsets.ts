import type { Admin, Kafka } from 'kafkajs';
import type { KafkaTriggerRow, StartOffsets } from '../../db/triggers-repo.js';
import type { Logger } from '../../shared/logger.js';

/** How long saving a trigger waits for the broker's end offsets before recording its start by time. */
const ASK_TIMEOUT_MS = 5000;

/**
 * A start recorded by time is looked up this much earlier: a message carries its producer's clock
 * (CreateTime), which may lag the database's. Messages of that minute before the trigger's `201`
 * may start runs; none after it is missed.
 */
export const START_CLOCK_SKEW_MS = 60_000;

/** The end offset of every partition of `topic` now; {} when it does not exist yet (each partition then starts at 0). */
export async function endOffsets(admin: Admin, topic: string): Promise<StartOffsets> {
  if (!(await admin.listTopics()).includes(topic)) return {};
  const offsets = await admin.fetchTopicOffsets(topic);
  return Object.fromEntries(offsets.map((p) => [String(p.partition), p.high]));
}

/**
 * Where a trigger saved now starts: the end offset of every partition of its topic. Null when there
 * is no broker to ask (KAFKA_BROKERS unset here) or it does not answer within 5 s: the trigger is
 * saved anyway, and the trigger service finds the offsets of the time it was saved (offsetsAt).
 */
export async function recordStart(
  kafka: Kafka | undefined,
  topic: string,
  logger: Logger,
): Promise<StartOffsets | null> {
  if (!kafka) return null;
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200 } });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ASK_TIMEOUT_MS} ms`)), ASK_TIMEOUT_MS);
  });
  try {
    const ask = async () => {
      await admin.connect();
      return endOffsets(admin, topic);
    };
    return await Promise.race([ask(), timeout]);
  } catch (err) {
    logger.warn({ err, topic }, "cannot read the topic's end offsets: the trigger starts at the time it is saved");
    return null;
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The offsets of a start recorded by time: on each partition the first message stamped at or
 * after `at` less START_CLOCK_SKEW_MS, else the partition's end; {} when the topic does not exist.
 */
export async function offsetsAt(admin: Admin, topic: string, at: Date): Promise<StartOffsets> {
  if (!(await admin.listTopics()).includes(topic)) return {};
  const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, at.getTime() - START_CLOCK_SKEW_MS);
  return Object.fromEntries(offsets.map((p) => [String(p.partition), p.offset]));
}

/** Where a trigger starts on a partition: 0 for a partition its start does not name, or when it has no start. */
export function startOn(trigger: KafkaTriggerRow, partition: number): bigint {
  const offset = trigger.startOffsets?.[String(partition)];
  return offset === undefined ? 0n : BigInt(offset);
}

/** Whether the message at `offset` is the trigger's: at or past its start. */
export const isAfterStart = (trigger: KafkaTriggerRow, partition: number, offset: string): boolean =>
  BigInt(offset) >= startOn(trigger, partition);

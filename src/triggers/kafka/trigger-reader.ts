import type { Admin } from 'kafkajs';
import type { KafkaTriggerRow, TriggersRepo } from '../../db/triggers-repo.js';
import type { Logger } from '../../shared/logger.js';
import { offsetsAt } from './start-offsets.js';

/** Reads the active Kafka triggers for the consumer. */
export interface TriggerReader {
  /**
   * The active Kafka triggers, from a read begun after this call: a batch asks once it is fetched,
   * so every trigger answered `201` before one of its messages was produced is among them. Starts
   * recorded by time are resolved to offsets (and stored) first.
   */
  read(): Promise<KafkaTriggerRow[]>;
}

/**
 * The reader of the trigger service: callers that ask while a read is under way share the next
 * one, so partitions handled at once cost one query, not one each. `keep` leaves out the triggers
 * that may not be consumed (a topic that is no longer the tenant's).
 * @example const triggers = (await reader.read()).filter((t) => t.config.topic === batch.topic);
 */
export function createTriggerReader(
  repo: TriggersRepo,
  admin: Admin,
  logger: Logger,
  keep: (rows: KafkaTriggerRow[]) => Promise<KafkaTriggerRow[]> = async (rows) => rows,
): TriggerReader {
  let inFlight: Promise<KafkaTriggerRow[]> | undefined;
  let queued: Promise<KafkaTriggerRow[]> | undefined;

  const begin = (): Promise<KafkaTriggerRow[]> => {
    const read = readResolved(repo, admin, logger, keep).finally(() => {
      if (inFlight === read) inFlight = undefined;
    });
    return (inFlight = read);
  };

  return {
    read() {
      if (queued) return queued; // not begun yet: it begins after this call
      if (!inFlight) return begin();
      return (queued = inFlight
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return begin();
        }));
    },
  };
}

async function readResolved(
  repo: TriggersRepo,
  admin: Admin,
  logger: Logger,
  keep: (rows: KafkaTriggerRow[]) => Promise<KafkaTriggerRow[]>,
): Promise<KafkaTriggerRow[]> {
  const rows = await keep(await repo.listActiveKafka());
  for (const row of rows) {
    if (!row.startAt || row.startOffsets) continue;
    row.startOffsets = await offsetsAt(admin, row.config.topic, row.startAt);
    await repo.resolveKafkaStart(row.tenantId, row.id, row.startAt, row.startOffsets);
    logger.info(
      { triggerId: row.id, topic: row.config.topic, startAt: row.startAt, offsets: row.startOffsets },
      'kafka trigger start found by time',
    );
  }
  return rows;
}

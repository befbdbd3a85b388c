import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import type { KafkaRunDeps } from './start-run.js';
import type { KafkaDeadLetterReason } from '../../db/kafka-dead-letters-repo.js';
import type { KafkaTriggerRow } from '../../db/triggers-repo.js';
import { runLimits } from '../../shared/config.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { deadLetterTopic } from '../../definitions/kafka-trigger.js';
import { judge } from './match.js';
import { deadLetterRecord } from './dead-letter-record.js';
import { decodeMessage, type TriggerMessage } from './message.js';
import type { KafkaMetrics } from './metrics.js';
import { startKafkaRun } from './start-run.js';
import { isAfterStart } from './start-offsets.js';
import type { TriggerReader } from './trigger-reader.js';

export interface BatchDeps {
  api: KafkaRunDeps;
  config: KafkaRunDeps['config'] & { KAFKA_MAX_MESSAGE_BYTES: number; KAFKA_BATCH_SIZE: number };
  logger: Logger;
  metrics: KafkaMetrics;
  producer: Producer;
  /** The active triggers, read after each batch is fetched. */
  reader: TriggerReader;
}

/** One thing a message makes happen: a run to start, or a dead letter to write. Done once, retried until done. */
interface Action {
  done: boolean;
  run(): Promise<void>;
}

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;
const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Handles a fetched batch slice by slice (KAFKA_BATCH_SIZE messages at once): every action of a
 * slice is accepted (runs started, dead letters written) before its offsets are committed, so a
 * crash redoes at most one slice, whose derived run ids Temporal refuses as duplicates. The
 * triggers are read once the batch is fetched, so each message meets every trigger saved before
 * it was produced; a trigger takes only the messages at or past its start.
 *
 * While an action cannot be done (Temporal or the broker unreachable) the partition is paused and
 * the slice retried with backoff, heartbeating so the group keeps the partition here. When the
 * group rebalances, the slice under way finishes and is committed (the generation is still
 * current), and the rest of the batch is given up to the partition's next owner, which resumes at
 * that commit; a slice that cannot finish stops uncommitted and its next owner redoes it.
 */
export async function handleBatch(deps: BatchDeps, consumer: Consumer, payload: EachBatchPayload): Promise<void> {
  const { batch } = payload;
  const size = deps.config.KAFKA_BATCH_SIZE;
  const triggers = await triggersOf(deps, payload);
  if (!triggers) return;
  for (let i = 0; i < batch.messages.length; i += size) {
    if (!payload.isRunning() || payload.isStale()) return;
    const slice = batch.messages.slice(i, i + size);
    const last = slice.at(-1);
    if (!last) return;
    const mine = (m: KafkaMessage) => triggers.filter((t) => isAfterStart(t, batch.partition, m.offset));
    const actions = (await Promise.all(slice.map((m) => plan(deps, mine(m), batch.topic, batch.partition, m)))).flat();
    if (!(await settle(deps, payload, actions))) return;
    const next = (BigInt(last.offset) + 1n).toString();
    // Resolved only once committed: a slice whose commit failed is fetched again, redone (starting
    // nothing new) and committed then, rather than left uncommitted behind the consumer's position.
    if (!(await commit(deps, consumer, batch.topic, batch.partition, next))) return;
    payload.resolveOffset(last.offset);
    deps.metrics.lag.set(
      { topic: batch.topic, partition: batch.partition },
      Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))),
    );
    try {
      await payload.heartbeat();
    } catch {
      return; // the group rebalances: the rest of the batch goes to the partition's next owner, from this commit
    }
  }
}

/**
 * The topic's active triggers, read now that the batch is fetched. While the database cannot
 * answer, the read is retried with backoff, heartbeating; undefined when the batch went stale.
 */
async function triggersOf(deps: BatchDeps, payload: EachBatchPayload): Promise<KafkaTriggerRow[] | undefined> {
  const { topic } = payload.batch;
  for (let delay = RETRY_FIRST_MS; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
    try {
      return (await heartbeatingWhile(payload, deps.reader.read())).filter((t) => t.config.topic === topic);
    } catch (err) {
      deps.logger.warn({ err, topic }, 'cannot read the Kafka triggers: the batch waits until it can');
      if (!(await waitHeartbeating(payload, delay))) return undefined;
    }
  }
}

async function commit(
  deps: BatchDeps,
  consumer: Consumer,
  topic: string,
  partition: number,
  offset: string,
): Promise<boolean> {
  try {
    await consumer.commitOffsets([{ topic, partition, offset }]);
    return true;
  } catch (err) {
    deps.logger.warn(
      { err, topic, partition },
      'offset commit failed; the messages will be delivered again and start no second run',
    );
    return false;
  }
}

/** What a message makes happen: for each of the given triggers (its topic's, started by then), a run, nothing, or a dead letter. */
async function plan(
  deps: BatchDeps,
  triggers: KafkaTriggerRow[],
  topic: string,
  partition: number,
  raw: KafkaMessage,
): Promise<Action[]> {
  deps.metrics.messagesIn.inc({ topic });
  const decoded = decodeMessage(topic, partition, raw, {
    maxBytes: deps.config.KAFKA_MAX_MESSAGE_BYTES,
    maxDepth: deps.config.API_JSON_MAX_DEPTH,
  });
  // A message nobody can read is dead for every trigger of its topic: each tenant sees it.
  if (!decoded.ok)
    return triggers.length === 0
      ? []
      : [
          action(() =>
            deadLetter(deps, {
              topic,
              partition,
              raw,
              reason: decoded.reason,
              error: decoded.error,
              triggers,
            }),
          ),
        ];
  const actions: Action[] = [];
  for (const trigger of triggers) {
    const verdict = await judge(trigger, decoded.message, runLimits(deps.config));
    if (verdict.kind === 'start')
      actions.push(action(() => startRun(deps, trigger, decoded.message, verdict.identity, raw)));
    else if (verdict.kind === 'dead')
      actions.push(
        action(() =>
          deadLetter(deps, {
            topic,
            partition,
            raw,
            reason: verdict.reason,
            error: verdict.error,
            triggers: [trigger],
          }),
        ),
      );
  }
  return actions;
}

const action = (run: () => Promise<void>): Action => ({ done: false, run });

/** Does every action, retrying the ones that failed with backoff, the partition paused meanwhile; false when the batch went stale. */
async function settle(deps: BatchDeps, payload: EachBatchPayload, actions: Action[]): Promise<boolean> {
  let delay = RETRY_FIRST_MS;
  let resume: (() => void) | undefined;
  try {
    for (;;) {
      const pending = actions.filter((a) => !a.done);
      const failures = (
        await heartbeatingWhile(
          payload,
          Promise.allSettled(pending.map(async (a) => a.run().then(() => void (a.done = true)))),
        )
      ).filter((r) => r.status === 'rejected');
      const first = failures[0];
      if (!first) return true;
      if (!resume) {
        resume = payload.pause();
        deps.metrics.paused.inc();
        deps.logger.warn(
          { err: first.reason, topic: payload.batch.topic, partition: payload.batch.partition },
          'cannot start runs: partition paused until they can',
        );
      }
      if (!(await waitHeartbeating(payload, delay))) return false;
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  } finally {
    if (resume) {
      resume();
      deps.metrics.paused.dec();
      deps.logger.info({ topic: payload.batch.topic, partition: payload.batch.partition }, 'partition resumed');
    }
  }
}

/**
 * Heartbeats while a slice's starts run: on a loaded server a slice of KAFKA_BATCH_SIZE starts can
 * outlast the session timeout, and a silent member is dropped from the group, which then
 * rebalances and hands the slice, uncommitted, to the next owner to start over.
 */
async function heartbeatingWhile<T>(payload: EachBatchPayload, work: Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    // A failed heartbeat means a rebalance: the slice finds its batch stale when it is done.
    payload.heartbeat().catch(() => undefined);
  }, HEARTBEAT_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

async function waitHeartbeating(payload: EachBatchPayload, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += HEARTBEAT_EVERY_MS) {
    await new Promise((r) => setTimeout(r, Math.min(HEARTBEAT_EVERY_MS, ms - waited)));
    if (!payload.isRunning() || payload.isStale()) return false;
    try {
      await payload.heartbeat();
    } catch {
      return false; // the group is rebalancing: another member takes the partition from its last commit
    }
  }
  return true;
}

/** Starts the trigger's run for the message; a start the engine refuses for good (workflow archived, pinned version gone) becomes a dead letter. */
async function startRun(
  deps: BatchDeps,
  trigger: KafkaTriggerRow,
  message: TriggerMessage,
  identity: string,
  raw: KafkaMessage,
): Promise<void> {
  try {
    const started = await startKafkaRun(deps.api, trigger, message, identity, deps.logger);
    deps.metrics.runsStarted.inc({ trigger_id: trigger.id, result: started.replayed ? 'replayed' : 'started' });
  } catch (err) {
    if (!(err instanceof AppError) || err.retryable) throw err;
    await deadLetter(deps, {
      topic: message.topic,
      partition: message.partition,
      raw,
      reason: 'start_refused',
      error: `${err.code}: ${err.message}`,
      triggers: [trigger],
    });
  }
}

interface DeadLetter {
  topic: string;
  partition: number;
  raw: KafkaMessage;
  reason: KafkaDeadLetterReason;
  error: string;
  /** The triggers the message is dead for; one alone is named in the topic's headers. */
  triggers: KafkaTriggerRow[];
}

/**
 * Records the message for each trigger's tenant (once per trigger and message, so a redelivery
 * adds nothing), then writes it as it came, with why and where from in `x-minizaps-*` headers, to
 * the dead-letter topic.
 */
async function deadLetter(deps: BatchDeps, d: DeadLetter): Promise<void> {
  for (const trigger of d.triggers)
    await deps.api.kafkaDeadLetters.record(
      deadLetterRecord({ ...d, tenantId: trigger.tenantId, triggerId: trigger.id }),
    );
  const topic = deadLetterTopic(deps.config, d.topic);
  const triggerId = d.triggers.length === 1 ? d.triggers[0]?.id : undefined;
  const headers = {
    ...d.raw.headers,
    'x-minizaps-dlq-reason': d.reason,
    'x-minizaps-dlq-error': d.error.slice(0, 2000),
    'x-minizaps-source-topic': d.topic,
    'x-minizaps-source-partition': String(d.partition),
    'x-minizaps-source-offset': d.raw.offset,
    ...(triggerId ? { 'x-minizaps-trigger-id': triggerId } : {}),
  };
  await deps.producer.send({ topic, acks: -1, messages: [{ key: d.raw.key, value: d.raw.value, headers }] });
  deps.metrics.deadLetters.inc({ topic: d.topic, reason: d.reason });
  deps.logger.warn(
    {
      topic: d.topic,
      partition: d.partition,
      offset: d.raw.offset,
      reason: d.reason,
      error: d.error,
      triggerIds: d.triggers.map((t) => t.id),
      deadLetterTopic: topic,
    },
    'message dead-lettered',
  );
}

import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { KafkaRunDeps } from './start-run.js';
import type { TriggerResult } from '../../runs/start-run.js';
import { resolved, type KafkaDeadLetterRow } from '../../db/kafka-dead-letters-repo.js';
import { runLimits } from '../../shared/config.js';
import { AppError, notFound } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { DEAD_LETTER_BOUNDS } from './dead-letter-record.js';
import { judge } from './match.js';
import { decodeMessage } from './message.js';
import { startKafkaRun } from './start-run.js';

const notRedrivable = (id: string, why: string) =>
  new AppError({ code: 'NOT_REDRIVABLE', message: `dead letter '${id}' cannot be re-driven: ${why}`, httpStatus: 409 });

const bytes = (text: string | null, encoding: 'utf8' | 'base64') =>
  text === null ? null : Buffer.from(text, encoding);

/** The message as the consumer fetched it, rebuilt from a record that kept it whole. */
function messageOf(dl: KafkaDeadLetterRow): KafkaMessage {
  const headers: IHeaders = {};
  for (const h of dl.headers) {
    const value = bytes(h.value, h.encoding) ?? Buffer.alloc(0);
    const seen = headers[h.name];
    headers[h.name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return {
    key: bytes(dl.key.text, dl.key.encoding),
    value: bytes(dl.value.text, dl.value.encoding),
    timestamp: String(dl.messageTime?.getTime() ?? 0),
    attributes: 0,
    offset: dl.offset,
    headers,
  };
}

/**
 * Re-drives a Kafka dead letter: the message, decoded again, goes through the trigger's filter and
 * key as they are now (a corrected filter, a workflow brought back) and starts the run the trigger
 * service would have started, under the same id, so a later delivery of the message starts no
 * second one. A message stored cut, still undecodable, or that the filter now skips is a 409.
 *
 * @example const { runId } = await redriveKafkaDeadLetter(deps, tenantId, triggerId, deadLetterId, logger);
 */
export async function redriveKafkaDeadLetter(
  deps: KafkaRunDeps,
  tenantId: string,
  triggerId: string,
  id: string,
  logger: Logger,
): Promise<TriggerResult> {
  const trigger = await deps.triggers.get(tenantId, triggerId);
  if (trigger.type !== 'kafka') throw notFound('dead letter', id);
  const dl = await deps.kafkaDeadLetters.get(tenantId, triggerId, id);
  if (dl.status !== 'open') throw resolved(id, dl.status);
  if (!dl.whole) throw notRedrivable(id, 'it was stored cut (it is whole on the dead-letter topic)');
  const decoded = decodeMessage(dl.topic, dl.partition, messageOf(dl), {
    maxBytes: DEAD_LETTER_BOUNDS.VALUE_MAX_BYTES * 4,
    maxDepth: deps.config.API_JSON_MAX_DEPTH,
  });
  if (!decoded.ok) throw notRedrivable(id, decoded.error);
  const verdict = await judge(trigger, decoded.message, runLimits(deps.config));
  if (verdict.kind === 'skip') throw notRedrivable(id, "the trigger's filter does not match it");
  if (verdict.kind === 'dead') throw notRedrivable(id, `${verdict.reason}: ${verdict.error}`);
  const started = await startKafkaRun(deps, trigger, decoded.message, verdict.identity, logger);
  await deps.kafkaDeadLetters.resolve(tenantId, triggerId, id, 'redriven');
  return started;
}

import type { KafkaTriggerRow } from '../../db/triggers-repo.js';
import { evaluate } from '../../definitions/expressions/evaluate.js';
import type { ExpressionLimits } from '../../shared/run-limits.js';
import { AppError } from '../../shared/errors.js';
import type { TriggerMessage } from './message.js';

/** What one trigger makes of one message: start a run under an identity, skip it, or dead-letter it. */
export type Verdict =
  | { kind: 'start'; identity: string }
  | { kind: 'skip' }
  | { kind: 'dead'; reason: 'filter_failed' | 'key_failed'; error: string };

const reasonOf = (err: unknown) =>
  err instanceof AppError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);

/**
 * Runs a trigger's filter and key over a message, under the run expression budgets. The filter
 * must give `true` for a run to start (a path the message lacks gives false). The identity names
 * the run: the key's value when the trigger has a key, else the message's topic, partition and
 * offset, so a message delivered again starts no second run.
 */
export async function judge(
  trigger: KafkaTriggerRow,
  message: TriggerMessage,
  limits: ExpressionLimits,
): Promise<Verdict> {
  const { filter, key } = trigger.config;
  if (filter !== undefined) {
    try {
      if ((await evaluate(filter, message, { limits })) !== true) return { kind: 'skip' };
    } catch (err) {
      return { kind: 'dead', reason: 'filter_failed', error: reasonOf(err) };
    }
  }
  if (key === undefined)
    return { kind: 'start', identity: `${message.topic}\n${message.partition}\n${message.offset}` };
  try {
    const value = await evaluate(key, message, { limits });
    if (typeof value !== 'string' && typeof value !== 'number')
      return {
        kind: 'dead',
        reason: 'key_failed',
        error: `the key gave ${value === undefined ? 'nothing' : typeof value}, not a string or number`,
      };
    return { kind: 'start', identity: `key\n${JSON.stringify(value)}` };
  } catch (err) {
    return { kind: 'dead', reason: 'key_failed', error: reasonOf(err) };
  }
}

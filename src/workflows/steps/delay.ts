import { sleep } from '@temporalio/workflow';
import { toMillis } from '../../definitions/duration.js';
import { isObject } from '../../shared/json-values.js';
import { AppError } from '../../shared/errors.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';
import { stepSummary } from '../summaries.js';
import { waiting } from '../waiting.js';

/** Waits for a `duration`, or `until` a time. */
export async function delay(step: StepOf<'delay'>, { scope, suffix }: StepContext): Promise<StepOutcome> {
  const config = await scope.run.render(step.config, scope.context());
  const ms = isObject(config) && typeof config.duration === 'string' ? toMillis(config.duration) : untilMillis(config);
  if (ms > 0) await waiting(scope, step.id, () => sleep(ms, { summary: stepSummary(step.id, suffix) }));
  return { output: null };
}

function untilMillis(config: unknown): number {
  const until = isObject(config) ? config.until : undefined;
  const at = typeof until === 'string' ? Date.parse(until) : Number.NaN;
  if (Number.isNaN(at))
    throw new AppError({ code: 'INVALID_CONFIG', message: `delay until '${String(until)}' is not a time` });
  return at - Date.now();
}

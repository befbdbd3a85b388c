import { condition } from '@temporalio/workflow';
import { toMillis } from '../../definitions/duration.js';
import { AppError } from '../../shared/errors.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';
import { REVISIONS } from '../revisions.js';
import { waiting } from '../waiting.js';
import { waitForEvents } from './wait-for-event-by-key.js';

/**
 * Waits for an event sent to the run (`POST /v1/runs/{id}/events/{name}`); its output is the
 * event's payload. With `key` or `anyOf`, see `waitForEvents`.
 */
export async function waitForEvent(step: StepOf<'wait_for_event'>, ctx: StepContext): Promise<StepOutcome> {
  const { name, timeout, key, anyOf } = step.config;
  if (name === undefined || key !== undefined || anyOf !== undefined) return waitForEvents(step, ctx);
  const { scope } = ctx;
  const run = scope.run;
  const forever = timeout === undefined && run.since(REVISIONS.eventsWithoutTimeout);
  const arrived = forever
    ? await waiting(scope, step.id, () => condition(() => run.hasEvent(name)).then(() => true))
    : await waiting(scope, step.id, () =>
        condition(() => run.hasEvent(name), timeout === undefined ? undefined : toMillis(timeout)),
      );
  if (arrived) return { output: run.takeEvent(name) };
  if (step.onTimeout !== undefined) return { output: { timedOut: true }, goto: step.onTimeout };
  throw new AppError({ code: 'EVENT_TIMEOUT', message: `no '${name}' event arrived within ${timeout}` });
}

import { condition } from '@temporalio/workflow';
import { toMillis } from '../../definitions/duration.js';
import { AppError } from '../../shared/errors.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';
import { REVISIONS } from '../revisions.js';
import { waiting } from '../waiting.js';

/** Waits for an event sent to the run (`POST /v1/runs/{id}/events/{name}`); its output is the event's payload. */
export async function waitForEvent(step: StepOf<'wait_for_event'>, { scope }: StepContext): Promise<StepOutcome> {
  const { name, timeout } = step.config;
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

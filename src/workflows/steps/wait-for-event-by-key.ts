import { condition } from '@temporalio/workflow';
import { toMillis } from '../../definitions/duration.js';
import { AppError } from '../../shared/errors.js';
import { renderEventKey } from '../cancel-on.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';
import type { Arrival } from '../keyed-events.js';
import { waiting } from '../waiting.js';

/**
 * A `wait_for_event` step with `key` (events posted to `POST /v1/events` under that key, through
 * the key's correlation workflow) or `anyOf` (the first of several events). The output is the
 * event's payload, or with `anyOf` `{ name, payload }`, saying which arrived.
 */
export async function waitForEvents(step: StepOf<'wait_for_event'>, { scope }: StepContext): Promise<StepOutcome> {
  const { name, anyOf, key, timeout } = step.config;
  const run = scope.run;
  const names = anyOf ?? (name === undefined ? [] : [name]);
  const timeoutMs = timeout === undefined ? undefined : toMillis(timeout);
  let arrival: Pick<Arrival, 'name' | 'payload'> | undefined;
  if (key === undefined) {
    // By run id (`POST /v1/runs/{id}/events/{name}`): the first of the names buffered in the run.
    const arrived = () => names.some((n) => run.hasEvent(n));
    await waiting(scope, step.id, async () => {
      if (timeoutMs === undefined) await condition(arrived);
      else await condition(arrived, timeoutMs);
    });
    const first = names.find((n) => run.hasEvent(n));
    if (first !== undefined) arrival = { name: first, payload: run.takeEvent(first) };
  } else {
    const rendered = await renderEventKey(run, key, scope.context());
    const keys = names.map((n) => ({ name: n, key: rendered }));
    arrival = await waiting(scope, step.id, () => run.keyed.wait(keys, timeoutMs));
  }
  if (arrival)
    return { output: anyOf === undefined ? arrival.payload : { name: arrival.name, payload: arrival.payload } };
  if (step.onTimeout !== undefined) return { output: { timedOut: true }, goto: step.onTimeout };
  throw new AppError({
    code: 'EVENT_TIMEOUT',
    message: `no '${names.join("' or '")}' event arrived within ${timeout}`,
  });
}

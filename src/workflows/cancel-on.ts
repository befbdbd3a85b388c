import type { Definition } from '../definitions/schema.js';
import { AppError } from '../shared/errors.js';
import { EVENT_KEY_PATTERN, EVENT_KEY_RULE } from '../definitions/event-names.js';
import type { EventKey } from './keyed-events.js';
import type { RunState } from './run-state.js';

/** The event key a template gives in this run, checked as `POST /v1/events` checks keys. */
export async function renderEventKey(run: RunState, template: string, context: unknown): Promise<string> {
  const key = await run.render(template, context);
  const text = typeof key === 'number' ? String(key) : key;
  if (typeof text !== 'string' || !EVENT_KEY_PATTERN.test(text))
    throw new AppError({
      code: 'INVALID_EVENT_KEY',
      message: `the event key ${String(JSON.stringify(key)).slice(0, 100)} is not valid: ${EVENT_KEY_RULE}`,
    });
  return text;
}

/**
 * Makes an event under one of the definition's `cancelOn` keys cancel the run, wherever it is:
 * the keys are rendered from the trigger and registered before the first step (a continued run
 * keeps its registration). Only events accepted after the run started count.
 */
export async function watchCancelOn(
  run: RunState,
  cancelOn: NonNullable<Definition['cancelOn']>,
  resumed: boolean,
  cancel: () => void,
): Promise<void> {
  const keys: EventKey[] = [];
  for (const c of cancelOn) keys.push({ name: c.name, key: await renderEventKey(run, c.key, run.top.context()) });
  await run.keyed.watchCancel(keys, resumed, cancel);
}

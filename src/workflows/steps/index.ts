import type { BuiltInStepType, ConnectorStep, Step, StepType } from '../../definitions/schema.js';
import { connector } from '../connector.js';
import type { Handler, Handlers, StepContext, StepOf, StepOutcome } from '../context.js';
import { choice } from './choice.js';
import { delay } from './delay.js';
import { fail } from './fail.js';
import { foreach } from './foreach.js';
import { parallel } from './parallel.js';
import { subworkflow } from './subworkflow.js';
import { succeed } from './succeed.js';
import { transform } from './transform.js';
import { waitForEvent } from './wait-for-event.js';
import { approval } from './approval.js';
import { respond } from './respond.js';

/**
 * Wraps a handler in one more async frame. The handlers below that delegate used to be called
 * from inside an async `switch`, the others were its inline cases; keeping that shape keeps the
 * microtasks between a step's end and the next command as they were, so concurrent branches issue
 * their commands in the order recorded histories hold. Do not unwrap without a revision gate.
 */
const framed =
  <T extends StepType>(handler: Handler<T>): Handler<T> =>
  async (step, ctx) =>
    handler(step, ctx);

/** Every connector step type (see src/activities/registry.ts) runs through this one handler. */
const runConnector = framed(connector);

/**
 * The one table from built-in step type to what runs it, one line each; each type's schema is an
 * entry of src/definitions/schema.ts and its body a file of this folder.
 */
export const handlers: Pick<Handlers, BuiltInStepType> = {
  delay: framed(delay),
  transform,
  choice: framed(choice),
  parallel: framed(parallel),
  foreach: framed(foreach),
  wait_for_event: framed(waitForEvent),
  subworkflow: framed(subworkflow),
  succeed,
  fail,
  approval: framed(approval),
  respond: framed(respond),
};

/** Every step type but the built-in ones names a connector (the API accepts only registered ones). */
const isConnectorStep = (step: Step): step is ConnectorStep => !Object.hasOwn(handlers, step.type);

/** Runs one step of any type through its handler. */
export const runStep = (step: Step, ctx: StepContext): Promise<StepOutcome> =>
  isConnectorStep(step) ? runConnector(step, ctx) : dispatch(step.type, step, ctx);

function dispatch<T extends BuiltInStepType>(type: T, step: StepOf<T>, ctx: StepContext): Promise<StepOutcome> {
  const handler: Handler<T> = handlers[type];
  return handler(step, ctx);
}

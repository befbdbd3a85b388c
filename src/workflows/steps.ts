import { ChildWorkflowFailure, condition, executeChild, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { DefinitionActivities } from '../activities/activities.js';
import { toMillis } from '../definitions/duration.js';
import { evaluateNow, isObject, LATER } from '../definitions/expressions.js';
import { AppError } from '../shared/errors.js';
import { runStartOptions } from './run-start.js';
import type { StepContext, StepOf, StepOutcome } from './context.js';
import { StepFailure, toStepError } from './errors.js';
import type { interpreter } from './interpreter.js';
import type { RunInput } from './run-model.js';
import { REVISIONS, stampRun } from './revisions.js';
import { childRunSummary, stepSummary } from './summaries.js';
import { waitForEvents } from './wait-for-events.js';
import { waiting } from './waiting.js';

const { loadDefinition } = proxyLocalActivities<DefinitionActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, maximumInterval: '10s' },
});

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

export async function transform(step: StepOf<'transform'>, { scope }: StepContext): Promise<StepOutcome> {
  const now = evaluateNow(step.config.expression, scope.context(), scope.run.evaluation);
  return { output: now === LATER ? await scope.run.evaluate(step.config.expression, scope.context()) : now };
}

/** Picks the next step; its output is its input (the last output), as it only routes. */
export async function choice(step: StepOf<'choice'>, { scope }: StepContext): Promise<StepOutcome> {
  for (const c of step.cases) {
    const now = evaluateNow(c.when, scope.context(), scope.run.evaluation);
    if (now === LATER ? await scope.run.evaluate(c.when, scope.context()) : now)
      return { output: scope.lastOutput, goto: c.next };
  }
  return { output: scope.lastOutput, goto: step.default };
}

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

/** Runs another stored workflow as a child run (its run id: `<runId>:<stepId>`) and returns its result. */
export async function subworkflow(step: StepOf<'subworkflow'>, { scope, suffix }: StepContext): Promise<StepOutcome> {
  const { identity } = scope.run;
  const input = step.config.input === undefined ? null : await scope.run.render(step.config.input, scope.context());
  const child = await loadDefinition({
    tenantId: identity.tenantId,
    workflowId: step.config.workflowId,
    version: step.config.version,
  });
  const childRunId = `${identity.runId}:${step.id}${suffix}`;
  const childInput: RunInput = {
    ...stampRun(identity.limits, identity.connectors),
    tenantId: identity.tenantId,
    workflowId: child.id,
    version: child.version,
    definition: child.definition,
    trigger: input,
  };
  try {
    const summary = childRunSummary(step.id, suffix, { name: child.definition.name, version: child.version });
    const result = await executeChild<typeof interpreter>('interpreter', {
      ...runStartOptions(childRunId, childInput),
      staticSummary: summary,
    });
    return { output: result.output };
  } catch (err) {
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    const cause = toStepError(err.cause);
    throw new StepFailure(
      { code: cause.code, message: `child run ${childRunId} failed: ${cause.message}`, details: { childRunId } },
      1,
      input,
    );
  }
}

export async function succeed(step: StepOf<'succeed'>, { scope }: StepContext): Promise<StepOutcome> {
  const output =
    step.config?.output === undefined ? scope.lastOutput : await scope.run.render(step.config.output, scope.context());
  return { output, end: { status: 'completed', output } };
}

export async function fail(step: StepOf<'fail'>, { scope }: StepContext): Promise<StepOutcome> {
  const message =
    step.config?.message === undefined
      ? 'ended by a fail step'
      : String(await scope.run.render(step.config.message, scope.context()));
  return { output: null, end: { status: 'failed', error: { code: step.config?.error ?? 'WORKFLOW_FAILED', message } } };
}

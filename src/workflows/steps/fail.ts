import type { StepContext, StepOf, StepOutcome } from '../context.js';

/** Ends the sequence as failed, with its `error` code and `message`. */
export async function fail(step: StepOf<'fail'>, { scope }: StepContext): Promise<StepOutcome> {
  const message =
    step.config?.message === undefined
      ? 'ended by a fail step'
      : String(await scope.run.render(step.config.message, scope.context()));
  return { output: null, end: { status: 'failed', error: { code: step.config?.error ?? 'WORKFLOW_FAILED', message } } };
}

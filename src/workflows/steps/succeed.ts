import type { StepContext, StepOf, StepOutcome } from '../context.js';

/** Ends the sequence as completed, with its `output` (the last output without one). */
export async function succeed(step: StepOf<'succeed'>, { scope }: StepContext): Promise<StepOutcome> {
  const output =
    step.config?.output === undefined ? scope.lastOutput : await scope.run.render(step.config.output, scope.context());
  return { output, end: { status: 'completed', output } };
}

import { evaluateNow, LATER } from '../../definitions/expressions.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';

/** Its output is its expression's value. */
export async function transform(step: StepOf<'transform'>, { scope }: StepContext): Promise<StepOutcome> {
  const now = evaluateNow(step.config.expression, scope.context(), scope.run.evaluation);
  return { output: now === LATER ? await scope.run.evaluate(step.config.expression, scope.context()) : now };
}

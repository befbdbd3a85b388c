import { evaluateNow } from '../../definitions/expressions/evaluate.js';
import { NEEDS_JSONATA } from '../../definitions/expressions/fast-path.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';

/** Its output is its expression's value. */
export async function transform(step: StepOf<'transform'>, { scope }: StepContext): Promise<StepOutcome> {
  const now = evaluateNow(step.config.expression, scope.context(), scope.run.evaluation);
  return { output: now === NEEDS_JSONATA ? await scope.run.evaluate(step.config.expression, scope.context()) : now };
}

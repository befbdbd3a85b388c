import { evaluateNow } from '../../definitions/expressions/evaluate.js';
import { NEEDS_JSONATA } from '../../definitions/expressions/fast-path.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';

/** Picks the next step; its output is its input (the last output), as it only routes. */
export async function choice(step: StepOf<'choice'>, { scope }: StepContext): Promise<StepOutcome> {
  for (const c of step.cases) {
    const now = evaluateNow(c.when, scope.context(), scope.run.evaluation);
    if (now === NEEDS_JSONATA ? await scope.run.evaluate(c.when, scope.context()) : now)
      return { output: scope.lastOutput, goto: c.next };
  }
  return { output: scope.lastOutput, goto: step.default };
}

import { type EvalOptions, evaluate } from '../definitions/expressions/evaluate.js';
import { render } from '../definitions/expressions/templates.js';
import { toFailure } from './connector-attempt.js';

/**
 * Evaluates, for a run, the expressions only JSONata can evaluate (see `RunState.evaluate`): an
 * `expression`, or a `template` whose `{{ }}` are rendered. It runs under the run's budgets; a
 * budget exceeded (EXPRESSION_LIMIT) or a failing expression (EXPRESSION_ERROR) is not retried.
 */
export function createExpressionActivities() {
  return {
    async evaluateExpression(req: {
      expression?: string;
      template?: unknown;
      scope: unknown;
      opts: EvalOptions;
    }): Promise<unknown> {
      try {
        return req.expression === undefined
          ? await render(req.template, req.scope, req.opts)
          : await evaluate(req.expression, req.scope, req.opts);
      } catch (err) {
        throw toFailure(err, 1);
      }
    },
  };
}

export type ExpressionActivities = ReturnType<typeof createExpressionActivities>;

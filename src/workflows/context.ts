import type { Step, StepType } from '../definitions/schema.js';
import type { StepError } from './run-model.js';
import type { Scope } from './scope.js';

/** How a sequence ended: by running out of steps, or by a `succeed` or `fail` step. */
export type SequenceEnd = { status: 'completed'; output: unknown } | { status: 'failed'; error: StepError };

/** What running one step produced: its output, and where to go or whether the sequence ends. */
export interface StepOutcome {
  output: unknown;
  attempts?: number;
  goto?: string;
  end?: SequenceEnd;
}

/** Runs a nested sequence (a parallel branch, a foreach item) in the scope given. */
export type RunSequence = (steps: Step[], scope: Scope) => Promise<SequenceEnd>;

/**
 * What a step handler is given besides its step. Blocks run their nested sequences through
 * `runSequence`, so the handlers never import the sequence runner that dispatches to them.
 */
export interface StepContext {
  readonly scope: Scope;
  /** Which execution of the step this is: 1, or more when a loop runs it again. */
  readonly executions: number;
  /**
   * What tells this execution from another in idempotency keys, activity ids and child ids:
   * `[3]` inside the fourth foreach item, `:2` when a loop runs the step a second time.
   */
  readonly suffix: string;
  readonly runSequence: RunSequence;
}

export const stepContext = (scope: Scope, executions: number, runSequence: RunSequence): StepContext => ({
  scope,
  executions,
  suffix: `${scope.keySuffix}${executions > 1 ? `:${executions}` : ''}`,
  runSequence,
});

/** The step of one type (connector steps share one schema, so `Extract` would miss them). */
export type StepOf<T extends StepType> = Step & { type: T };

export type Handler<T extends StepType> = (step: StepOf<T>, ctx: StepContext) => Promise<StepOutcome>;

/** One handler per step type; the type checker insists every type has one. */
export type Handlers = { [T in StepType]: Handler<T> };

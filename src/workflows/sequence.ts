import { continueAsNew, isCancellation, workflowInfo } from '@temporalio/workflow';
import { evaluateNow } from '../definitions/expressions/evaluate.js';
import { NEEDS_JSONATA } from '../definitions/expressions/fast-path.js';
import type { Step } from '../definitions/schema.js';
import { stepContext, type SequenceEnd } from './context.js';
import { SequenceFailure, StepFailure, toStepError } from './errors.js';
import { runStep } from './steps/index.js';
import type { interpreter } from './interpreter.js';
import { REVISIONS, stampRun } from './revisions.js';
import type { Scope } from './scope.js';

const DEFAULT_HISTORY_LIMIT = 10_000;

/**
 * Runs a sequence of steps in order, following `next`, `onError`, choices and the ends of
 * `succeed`/`fail`. At the top level it continues as new before the history grows too long.
 */
export async function executeSequence(steps: Step[], scope: Scope, startAt?: string): Promise<SequenceEnd> {
  let position = new Map(steps.map((s, i) => [s.id, i]));
  const topLevel = scope.parent === undefined;
  let i = startAt === undefined ? 0 : (position.get(startAt) ?? 0);
  for (let first = true; i < steps.length; first = false) {
    const step = steps[i];
    if (!step) break;
    const input = scope.run.input;
    // A move accepted meanwhile is made at the next boundary first: continue-as-new would drop it.
    if (topLevel && input && !first && !scope.run.moveDue && historyTooLong(input.historyLimit)) {
      await continueAsNew<typeof interpreter>({
        ...input,
        ...stampRun(input.limits, input.connectors),
        resume: scope.run.resumeState(step.id),
      });
    }
    const { end, goto } = await executeStep(step, scope);
    if (end) return end;
    // A run that accepted a newer version moves here, between two top-level steps (see migration.ts).
    const moved = topLevel && scope.run.moveDue ? await scope.run.move() : undefined;
    if (moved) {
      steps = moved;
      position = new Map(steps.map((s, j) => [s.id, j]));
      i = nextAfterMove(steps, position, step.id, goto);
      continue;
    }
    const target = goto ?? step.next;
    i = target === undefined ? i + 1 : (position.get(target) ?? steps.length);
  }
  return { status: 'completed', output: scope.lastOutput };
}

/**
 * Where a run goes on after it moved at the end of `stepId`: where the step's own jump (a choice's
 * case, `onTimeout`, `onError`) leads if the new version has that step, else where the new version
 * goes after the step.
 */
function nextAfterMove(steps: Step[], position: Map<string, number>, stepId: string, goto?: string): number {
  if (goto !== undefined && position.has(goto)) return position.get(goto) ?? steps.length;
  const at = position.get(stepId) ?? steps.length;
  const next = steps[at]?.next;
  return next === undefined ? at + 1 : (position.get(next) ?? steps.length);
}

function historyTooLong(limit = DEFAULT_HISTORY_LIMIT): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= limit;
}

async function executeStep(step: Step, scope: Scope): Promise<{ end?: SequenceEnd; goto?: string }> {
  if (scope.executed >= scope.run.maxSteps) {
    throw new SequenceFailure({
      code: 'MAX_STEPS_EXCEEDED',
      message: `a sequence executed ${scope.run.maxSteps} steps (maxSteps); is a loop missing its exit?`,
    });
  }
  let executions = scope.begin(step);
  for (let current = step; ;) {
    try {
      // Expressions are evaluated at once where they can be: no promise, no stack trace (see evaluateNow).
      if (current.when !== undefined) {
        const now = evaluateNow(current.when, scope.context(), scope.run.evaluation);
        if (!(now === NEEDS_JSONATA ? await scope.run.evaluate(current.when, scope.context()) : now)) {
          scope.end(current.id, { status: 'skipped' });
          return {};
        }
      }
      const outcome = await runStep(current, stepContext(scope, executions, executeSequence));
      let output = outcome.output;
      if (current.output !== undefined) {
        const context = { ...scope.context(), output: outcome.output };
        const now = evaluateNow(current.output, context, scope.run.evaluation);
        output = now === NEEDS_JSONATA ? await scope.run.evaluate(current.output, context) : now;
      }
      scope.end(current.id, { status: 'completed', output, attempts: outcome.attempts ?? 1 });
      if (outcome.end?.status === 'failed') scope.run.failedStep = current.id;
      return { end: outcome.end, goto: outcome.goto };
    } catch (err) {
      if (isCancellation(err)) {
        scope.end(current.id, { status: 'cancelled' });
        throw err;
      }
      if (err instanceof SequenceFailure) throw err;
      const error = toStepError(err);
      const attempts = err instanceof StepFailure ? err.attempts : 1;
      scope.end(current.id, { status: 'failed', error, attempts });
      if (current.onError === 'continue') return {};
      if (current.onError !== undefined) return { goto: current.onError };
      if (err instanceof StepFailure && scope.run.since(REVISIONS.parkFailedSteps)) {
        const decision = await scope.run.park(current, { error, attempts, input: err.input });
        if (decision.action === 'redrive') {
          // The same execution again: same idempotency key, earlier outputs untouched.
          current = decision.step ?? current;
          executions = scope.restart(current);
          continue;
        }
      }
      scope.run.failedStep = current.id;
      throw new SequenceFailure({ ...error, message: `step '${current.id}' failed: ${error.message}` });
    }
  }
}

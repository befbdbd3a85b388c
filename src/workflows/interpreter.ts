import { ApplicationFailure, CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
import { evaluate } from '../definitions/expressions.js';
import type { Step } from '../definitions/schema.js';
import { runStateQuery, type RunInput, type RunResult, type StepError } from './messages.js';
import { RunState } from './run-state.js';
import { runStep, StepFailure, toStepError, type StepOutcome } from './steps.js';

/**
 * The one workflow every run executes: it walks a JSON definition step by step. Deterministic:
 * it reads nothing but its input and talks to the world only through activities and timers.
 */
export async function interpreter(input: RunInput): Promise<RunResult> {
  const run = new RunState(input);
  setHandler(runStateQuery, () => run.snapshot());
  try {
    const end = await executeSequence(input.definition.steps, run);
    if (end?.status === 'failed') throw new RunFailure(end.error);
    const output = end?.status === 'completed' ? end.output : run.lastOutput;
    await run.finish('completed', { output });
    return { output };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => run.finish('cancelled', {}));
      throw err;
    }
    const error = err instanceof RunFailure ? err.error : toStepError(err);
    await run.finish('failed', { error });
    throw ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true, details: [error] });
  }
}

class RunFailure extends Error {
  constructor(readonly error: StepError) {
    super(error.message);
  }
}

/** Runs steps in order, following `next`, `onError` and the end of `succeed`/`fail`. */
async function executeSequence(steps: Step[], run: RunState): Promise<StepOutcome['end']> {
  const position = new Map(steps.map((s, i) => [s.id, i]));
  for (let i = 0; i < steps.length; ) {
    const step = steps[i];
    if (!step) break;
    const { end, goto } = await executeStep(step, run);
    if (end) return end;
    const target = goto ?? step.next;
    i = target === undefined ? i + 1 : (position.get(target) ?? steps.length);
  }
  return undefined;
}

async function executeStep(step: Step, run: RunState): Promise<{ end?: StepOutcome['end']; goto?: string }> {
  if (run.executedSteps >= run.maxSteps) {
    throw new RunFailure({ code: 'MAX_STEPS_EXCEEDED', message: `the run executed ${run.maxSteps} steps (maxSteps); is a loop missing its exit?` });
  }
  const executions = run.begin(step);
  try {
    if (step.when !== undefined && !(await evaluate(step.when, run.context))) {
      run.end(step.id, { status: 'skipped' });
      return {};
    }
    const outcome = await runStep(step, run, executions, run.definition);
    const output = step.output === undefined ? outcome.output : await evaluate(step.output, { ...run.context, output: outcome.output });
    run.end(step.id, { status: 'completed', output, attempts: outcome.attempts ?? 0 });
    return { end: outcome.end };
  } catch (err) {
    if (isCancellation(err) || err instanceof RunFailure) throw err;
    const error = toStepError(err);
    run.end(step.id, { status: 'failed', error, attempts: err instanceof StepFailure ? err.attempts : 0 });
    if (step.onError === 'continue') return {};
    if (step.onError !== undefined) return { goto: step.onError };
    throw new RunFailure({ ...error, message: `step '${step.id}' failed: ${error.message}` });
  }
}

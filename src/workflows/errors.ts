import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { isObject } from '../shared/json-values.js';
import { AppError } from '../shared/errors.js';
import type { StepError } from './run-model.js';

/** A failed step, with the attempts it took. */
export class StepFailure extends Error {
  constructor(
    readonly error: StepError,
    readonly attempts: number,
    /** What the step was given (its evaluated config): shown with its dead letter. */
    readonly input?: unknown,
  ) {
    super(error.message);
    this.name = 'StepFailure';
  }
}

/** A failure that ends the run (or the enclosing block) rather than one step. */
export class SequenceFailure extends Error {
  constructor(readonly error: StepError) {
    super(error.message);
    this.name = 'SequenceFailure';
  }
}

/** Anything a step, block or run can throw, as the StepError the index and the user see. */
export function toStepError(err: unknown): StepError {
  if (err instanceof StepFailure || err instanceof SequenceFailure) return err.error;
  if (err instanceof AppError)
    return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const first = detailsOf(cause);
    // A failed run (a child) carries its StepError as it is.
    if (typeof first.code === 'string' && typeof first.message === 'string')
      return {
        code: first.code,
        message: first.message,
        ...(first.details === undefined ? {} : { details: first.details }),
      };
    const { attempt: _attempt, ...details } = first;
    return {
      code: cause.type ?? 'ACTIVITY_FAILED',
      message: cause.message,
      ...(Object.keys(details).length ? { details } : {}),
    };
  }
  if (cause instanceof TimeoutFailure)
    return { code: 'STEP_TIMEOUT', message: `the step timed out (${cause.timeoutType})` };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** How a run (or a foreach batch) fails: non-retryable, its type the stable code, the StepError as details. */
export const runFailure = (error: StepError): ApplicationFailure =>
  ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true, details: [error] });

/** The attempts a failed activity took, from its last failure's details, else the most it was allowed. */
export function attemptsOf(
  err: ActivityFailure | ApplicationFailure | TimeoutFailure,
  maxAttempts: number | undefined,
): number {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const attempt = cause instanceof ApplicationFailure ? detailsOf(cause).attempt : undefined;
  return typeof attempt === 'number' ? attempt : (maxAttempts ?? 1);
}

const detailsOf = (failure: ApplicationFailure): Record<string, unknown> => {
  const first = failure.details?.[0];
  return isObject(first) ? first : {};
};

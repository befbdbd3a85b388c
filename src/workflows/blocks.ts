// What the steps that hold steps (parallel, foreach) share: running their sequences, reporting their failures.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { SequenceEnd } from './context.js';
import { SequenceFailure, StepFailure } from './errors.js';

/**
 * Runs `count` tasks at once and waits until every one has settled, so the states of cancelled
 * siblings are recorded before the block ends. With `cancelOnFailure` the first failure cancels
 * the others.
 */
export async function settleAll<T>(
  count: number,
  cancelOnFailure: boolean,
  task: (i: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const scope = new CancellationScope();
  return scope.run(() =>
    Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        task(i).catch((err: unknown) => {
          if (cancelOnFailure && !isCancellation(err)) scope.cancel();
          throw err;
        }),
      ),
    ),
  );
}

/** The failure that started it all, rather than the cancellations it caused. */
export function firstFailure(settled: PromiseSettledResult<unknown>[]): unknown {
  const rejected = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  return rejected.find((reason) => !isCancellation(reason)) ?? rejected[0];
}

/** A nested sequence's result; a `fail` step inside fails the block. */
export function endOf(end: SequenceEnd): unknown {
  if (end.status === 'failed') throw new SequenceFailure(end.error);
  return end.output;
}

/** The failure of a nested block becomes the failure of the block step. */
export function blockFailure(err: unknown, where: string): unknown {
  if (err instanceof SequenceFailure || err instanceof StepFailure)
    return new StepFailure({ ...err.error, message: `${where} failed: ${err.error.message}` }, 1);
  return err;
}

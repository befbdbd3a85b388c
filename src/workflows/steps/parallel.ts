import { isCancellation } from '@temporalio/workflow';
import type { ParallelStepDef } from '../../definitions/schema.js';
import { blockFailure, endOf, firstFailure, settleAll } from '../blocks.js';
import type { StepContext, StepOutcome } from '../context.js';
import { StepFailure, toStepError } from '../errors.js';
import type { StepStatus } from '../run-model.js';
import { Scope } from '../scope.js';

/**
 * Runs every branch at once (fan-out) and returns their results in branch order (fan-in).
 * failFast (default): the first failure cancels the other branches; otherwise every branch
 * finishes and every failure is reported.
 */
export async function parallel(step: ParallelStepDef, { scope, runSequence }: StepContext): Promise<StepOutcome> {
  const branches = step.branches.map(() => new Scope(scope.run, scope, { shared: true }));
  const statuses: StepStatus[] = branches.map(() => 'running');
  scope.attachChildren(step.id, () => branches.map((b, i) => b.asChild(`branch ${i}`, statuses[i] ?? 'running')));
  const failFast = step.failFast ?? true;
  const settled = await settleAll(step.branches.length, failFast, async (i) => {
    try {
      const output = endOf(await runSequence(step.branches[i] ?? [], branches[i] ?? scope));
      statuses[i] = 'completed';
      return output;
    } catch (err) {
      statuses[i] = isCancellation(err) ? 'cancelled' : 'failed';
      throw err;
    }
  });
  const failures = settled.flatMap((r, i) =>
    r.status === 'rejected' && !isCancellation(r.reason) ? [{ branch: i, ...toStepError(r.reason) }] : [],
  );
  if (failFast && settled.some((r) => r.status === 'rejected')) throw blockFailure(firstFailure(settled), 'a branch');
  if (failures.length > 0) {
    throw new StepFailure(
      {
        code: 'PARALLEL_FAILED',
        message: `${failures.length} of ${settled.length} branches failed`,
        details: { failures },
      },
      1,
    );
  }
  return { output: settled.map((r) => (r.status === 'fulfilled' ? r.value : null)) };
}

import { ChildWorkflowFailure, executeChild, isCancellation } from '@temporalio/workflow';
import type { ForeachStepDef } from '../../definitions/schema.js';
import { AppError } from '../../shared/errors.js';
import { blockFailure, endOf, firstFailure, settleAll } from '../blocks.js';
import type { StepContext, StepOutcome } from '../context.js';
import { StepFailure, toStepError } from '../errors.js';
import type { foreachBatch } from '../interpreter.js';
import type { ForeachBatchInput, StepStatus } from '../run-model.js';
import { stampRun } from '../revisions.js';
import { Scope } from '../scope.js';
import { stepSummary } from '../summaries.js';

/** Lists longer than this run as child workflows of `BATCH_SIZE` items each. */
export const INLINE_ITEMS = 200;
export const BATCH_SIZE = 1000;
const DEFAULT_CONCURRENCY = 10;

/**
 * Runs `steps` for every item of a list (`item`, `index` in scope) with bounded concurrency;
 * the output is the list of results in item order. Long lists run as batches of child workflows.
 */
export async function foreach(step: ForeachStepDef, ctx: StepContext): Promise<StepOutcome> {
  const { scope } = ctx;
  const items = await scope.run.evaluate(step.items, scope.context());
  if (!Array.isArray(items))
    throw new AppError({
      code: 'ITEMS_NOT_A_LIST',
      message: `foreach items '${step.items}' gave ${JSON.stringify(items)?.slice(0, 100)}, not a list`,
    });
  if (items.length > INLINE_ITEMS) return { output: await inBatches(step, ctx, items) };
  return { output: await forEachItem(step, ctx, items, 0, scope.keySuffix) };
}

/** Runs the items in this workflow, `concurrency` at a time; the first failure cancels the rest. */
export async function forEachItem(
  step: ForeachStepDef,
  { scope, runSequence }: Pick<StepContext, 'scope' | 'runSequence'>,
  items: unknown[],
  offset: number,
  keySuffix: string,
): Promise<unknown[]> {
  const results: unknown[] = new Array<unknown>(items.length).fill(null);
  const iterations: { scope: Scope; status: StepStatus }[] = [];
  scope.attachChildren(step.id, () => iterations.map((it, i) => it.scope.asChild(`item ${offset + i}`, it.status)));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      const index = offset + i;
      const iteration: { scope: Scope; status: StepStatus } = {
        scope: new Scope(scope.run, scope, { vars: { item: items[i], index }, keySuffix: `${keySuffix}[${index}]` }),
        status: 'running',
      };
      iterations[i] = iteration;
      try {
        results[i] = endOf(await runSequence(step.steps, iteration.scope));
        iteration.status = 'completed';
      } catch (err) {
        iteration.status = isCancellation(err) ? 'cancelled' : 'failed';
        throw err;
      }
    }
  };
  const workers = Math.min(step.concurrency ?? DEFAULT_CONCURRENCY, items.length);
  const settled = await settleAll(workers, true, worker);
  if (settled.some((r) => r.status === 'rejected')) throw blockFailure(firstFailure(settled), 'an item');
  return results;
}

/** One child workflow per `BATCH_SIZE` items, one after another, each running its items concurrently. */
async function inBatches(step: ForeachStepDef, { scope, suffix }: StepContext, items: unknown[]): Promise<unknown[]> {
  const { identity } = scope.run;
  const statuses: StepStatus[] = [];
  const count = Math.ceil(items.length / BATCH_SIZE);
  scope.attachChildren(step.id, () =>
    statuses.map((status, k) => ({
      key: `items ${k * BATCH_SIZE}-${Math.min(items.length, (k + 1) * BATCH_SIZE) - 1}`,
      status,
      steps: [],
    })),
  );
  const context = scope.context();
  const results: unknown[] = [];
  for (let k = 0; k < count; k++) {
    statuses[k] = 'running';
    const input: ForeachBatchInput = {
      run: {
        ...stampRun(identity.limits, identity.connectors),
        tenantId: identity.tenantId,
        workflowId: identity.workflowId,
        version: identity.version,
        definition: identity.definition,
        runId: identity.runId,
        ...(identity.onFailure ? { onFailure: identity.onFailure } : {}),
      },
      step,
      context: { trigger: context.trigger, steps: stepsOf(context), run: runOf(context) },
      items: items.slice(k * BATCH_SIZE, (k + 1) * BATCH_SIZE),
      offset: k * BATCH_SIZE,
      keySuffix: scope.keySuffix,
    };
    const batchId = `${identity.runId}:${step.id}${suffix}:batch-${k}`;
    try {
      results.push(
        ...(await executeChild<typeof foreachBatch>('foreachBatch', {
          workflowId: batchId,
          args: [input],
          staticSummary: `${stepSummary(step.id, suffix)} batch ${k + 1}`,
        })),
      );
      statuses[k] = 'completed';
    } catch (err) {
      statuses[k] = 'failed';
      if (err instanceof ChildWorkflowFailure)
        throw new StepFailure({ ...toStepError(err.cause), details: { batchRunId: batchId } }, 1);
      throw err;
    }
  }
  return results;
}

const stepsOf = (context: Record<string, unknown>): Record<string, unknown> => {
  const steps = context.steps;
  return typeof steps === 'object' && steps !== null && !Array.isArray(steps) ? { ...steps } : {};
};
const runOf = (context: Record<string, unknown>): Record<string, unknown> => stepsOf({ steps: context.run });

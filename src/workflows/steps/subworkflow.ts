import { ChildWorkflowFailure, executeChild, proxyLocalActivities } from '@temporalio/workflow';
import type { DefinitionActivities } from '../../activities/activities.js';
import type { StepContext, StepOf, StepOutcome } from '../context.js';
import { StepFailure, toStepError } from '../errors.js';
import type { interpreter } from '../interpreter.js';
import { stampRun } from '../revisions.js';
import type { RunInput } from '../run-model.js';
import { runStartOptions } from '../run-start.js';
import { childRunSummary } from '../summaries.js';

const { loadDefinition } = proxyLocalActivities<DefinitionActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, maximumInterval: '10s' },
});

/** Runs another stored workflow as a child run (its run id: `<runId>:<stepId>`) and returns its result. */
export async function subworkflow(step: StepOf<'subworkflow'>, { scope, suffix }: StepContext): Promise<StepOutcome> {
  const { identity } = scope.run;
  const input = step.config.input === undefined ? null : await scope.run.render(step.config.input, scope.context());
  const child = await loadDefinition({
    tenantId: identity.tenantId,
    workflowId: step.config.workflowId,
    version: step.config.version,
  });
  const childRunId = `${identity.runId}:${step.id}${suffix}`;
  const childInput: RunInput = {
    ...stampRun(identity.limits, identity.connectors),
    tenantId: identity.tenantId,
    workflowId: child.id,
    version: child.version,
    definition: child.definition,
    trigger: input,
  };
  try {
    const summary = childRunSummary(step.id, suffix, { name: child.definition.name, version: child.version });
    const result = await executeChild<typeof interpreter>('interpreter', {
      ...runStartOptions(childRunId, childInput),
      staticSummary: summary,
    });
    return { output: result.output };
  } catch (err) {
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    const cause = toStepError(err.cause);
    throw new StepFailure(
      { code: cause.code, message: `child run ${childRunId} failed: ${cause.message}`, details: { childRunId } },
      1,
      input,
    );
  }
}

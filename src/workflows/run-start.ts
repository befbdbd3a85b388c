import type { SearchAttributePair } from '@temporalio/common';
import type { RunInput } from './run-model.js';
import { runSearchAttributes } from './search-attributes.js';

/**
 * What every start of a run gives Temporal, whoever starts it (the API's client, a subworkflow
 * step, a schedule's firing): the run's id, its input as the interpreter's one argument, and the
 * search attributes operators filter runs by. Pure, so workflow code uses it too.
 * @example await client.workflow.start<typeof interpreter>('interpreter', { ...runStartOptions(runId, input), taskQueue });
 */
export function runStartOptions(
  runId: string,
  input: RunInput,
): { workflowId: string; args: [RunInput]; typedSearchAttributes: SearchAttributePair[] } {
  return { workflowId: runId, args: [input], typedSearchAttributes: runSearchAttributes(input) };
}

import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { AppError, unavailable } from '../shared/errors.js';

/**
 * The trigger payload a run started with, read from the start event of its Temporal history
 * (decoded through the client's codecs, so claim-checked and encrypted inputs come back whole).
 * RUN_INPUT_UNAVAILABLE once Temporal no longer keeps the run.
 */
export async function triggerPayload(temporal: Client, runId: string): Promise<unknown> {
  const gone = new AppError({
    code: 'RUN_INPUT_UNAVAILABLE',
    message: `the input of run '${runId}' is no longer kept by Temporal`,
    httpStatus: 409,
  });
  let payloads;
  try {
    const { history } = await temporal.workflowService.getWorkflowExecutionHistory({
      namespace: temporal.options.namespace,
      execution: { workflowId: runId },
      maximumPageSize: 1,
    });
    payloads = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  } catch (err) {
    if (err instanceof Error && /not found/i.test(err.message)) throw gone;
    throw unavailable('Temporal', err);
  }
  if (!payloads) throw gone;
  const input: unknown = await decodeFromPayloadsAtIndex(temporal.options.loadedDataConverter, 0, payloads);
  return typeof input === 'object' && input !== null && 'trigger' in input ? input.trigger : null;
}

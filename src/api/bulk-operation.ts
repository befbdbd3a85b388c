import { randomUUID } from 'node:crypto';
import { unavailable } from '../shared/errors.js';
import type { BulkRedriveInput, BulkRerunInput } from '../workflows/run-model.js';
import type { ApiDeps } from './env.js';

/** The bulk operations, each a workflow that works through what its filter matched at a bounded rate. */
interface BulkOperations {
  bulkRedrive: BulkRedriveInput;
  bulkRerun: BulkRerunInput;
}
const ID_PREFIXES: Record<keyof BulkOperations, string> = { bulkRedrive: 'bulk-redrive', bulkRerun: 'bulk-rerun' };

/** Starts a bulk operation and answers its id (the workflow's); Temporal out of reach is a 503. */
export async function startBulkOperation<K extends keyof BulkOperations>(
  deps: Pick<ApiDeps, 'temporal' | 'config'>,
  workflow: K,
  input: BulkOperations[K],
): Promise<string> {
  const operationId = `${ID_PREFIXES[workflow]}-${randomUUID()}`;
  try {
    await deps.temporal.workflow.start(workflow, {
      workflowId: operationId,
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
  } catch (err) {
    throw unavailable('Temporal', err);
  }
  return operationId;
}

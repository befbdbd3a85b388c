import { getExternalWorkflowHandle, proxyActivities, sleep } from '@temporalio/workflow';
import type { DeadLetterActivities } from '../activities/dead-letters.js';
import { redriveSignal, type BulkRedriveInput } from './run-model.js';

const { openDeadLetters, resolveDeadLetter } = proxyActivities<DeadLetterActivities>({ startToCloseTimeout: '30s' });

/**
 * Re-drives every open dead letter of a group, at most `ratePerSecond` a second, so a fixed
 * receiver is not flooded. A durable workflow itself: it survives restarts and shows its progress
 * in the Temporal UI.
 */
export async function bulkRedrive(input: BulkRedriveInput): Promise<{ matched: number; redriven: number }> {
  const targets = await openDeadLetters({ tenantId: input.tenantId, filter: input.filter, limit: input.limit });
  let redriven = 0;
  for (let i = 0; i < targets.length; i += input.ratePerSecond) {
    if (i > 0) await sleep(1000);
    const slice = targets.slice(i, i + input.ratePerSecond);
    await Promise.all(
      slice.map(async (t) => {
        try {
          await getExternalWorkflowHandle(t.executionId).signal(redriveSignal, {
            deadLetterId: t.id,
            action: 'redrive',
          });
        } catch {
          return; // the run has ended meanwhile; its dead letter stays as it is
        }
        if (await resolveDeadLetter({ tenantId: input.tenantId, id: t.id, status: 'redriven' })) redriven += 1;
      }),
    );
  }
  return { matched: targets.length, redriven };
}

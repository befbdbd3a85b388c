import type { DeadLetterFilter, DeadLetterRecord, DeadLettersRepo } from '../db/dead-letters-repo.js';
import type { Metrics } from '../shared/metrics.js';

/** How runs park failed steps, and how a bulk re-drive finds and settles them. */
export function createDeadLetterActivities(deadLetters: DeadLettersRepo, metrics?: Metrics) {
  return {
    async recordDeadLetter(record: DeadLetterRecord): Promise<void> {
      await deadLetters.insert(record);
      metrics?.deadLetters.inc({ type: record.stepType, code: record.errorCode });
    },
    async openDeadLetters(req: {
      tenantId: string;
      filter: DeadLetterFilter;
      limit: number;
    }): Promise<{ id: string; executionId: string }[]> {
      return deadLetters.openIds(req.tenantId, req.filter, req.limit);
    },
    async resolveDeadLetter(req: {
      tenantId: string;
      id: string;
      status: 'redriven' | 'discarded';
      reason?: string;
    }): Promise<boolean> {
      return deadLetters.resolve(req.tenantId, req.id, req.status, req.reason);
    },
  };
}

export type DeadLetterActivities = ReturnType<typeof createDeadLetterActivities>;

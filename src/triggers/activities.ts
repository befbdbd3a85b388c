import { v5 as uuidv5 } from 'uuid';
import type { Repos } from '../db/repos.js';
import type { RunLimits } from '../definitions/limits.js';
import type { RunInput, RunSource } from '../workflows/messages.js';
import { toFailure } from '../activities/boundary.js';
import { buildRunInput } from './run-input.js';

/** Namespace of run ids derived from (trigger, scheduled time). */
const SCHEDULED_RUN_NAMESPACE = '5d3c2a71-0b8e-4c62-9f4e-8a1d7c6b3e90';

/** The run id of a schedule's firing: the same for every attempt at the same firing. */
export const scheduledRunId = (triggerId: string, scheduledAt: string) =>
  uuidv5(`${triggerId}\n${scheduledAt}`, SCHEDULED_RUN_NAMESPACE);

/** The activities of schedule firings (see the `scheduledTrigger` workflow). */
export function createTriggerActivities(repos: Pick<Repos, 'triggers' | 'workflows' | 'runs'>, limits: RunLimits) {
  return {
    /**
     * The run a firing starts, built as every trigger builds it, and listed at once; null when the
     * trigger was deleted or its workflow archived since the schedule fired.
     */
    async prepareScheduledRun(req: {
      tenantId: string;
      triggerId: string;
      scheduledAt: string;
    }): Promise<{ runId: string; input: RunInput } | null> {
      try {
        const trigger = await repos.triggers.find(req.tenantId, req.triggerId);
        if (trigger?.type !== 'schedule') return null;
        const workflow = await repos.workflows.get(req.tenantId, trigger.workflowId, trigger.version ?? undefined);
        if (workflow.archivedAt) return null;
        const source: RunSource = { type: 'schedule', triggerId: trigger.id, scheduledAt: req.scheduledAt };
        const runId = scheduledRunId(trigger.id, req.scheduledAt);
        const input = buildRunInput(limits, {
          tenantId: req.tenantId,
          workflow,
          payload: trigger.config.input,
          source,
        });
        await repos.runs.insertTriggered({
          id: runId,
          tenantId: req.tenantId,
          workflowId: workflow.id,
          version: workflow.version,
          startedAt: new Date(),
          source,
        });
        return { runId, input };
      } catch (err) {
        throw toFailure(err, 1);
      }
    },
  };
}

export type TriggerActivities = ReturnType<typeof createTriggerActivities>;

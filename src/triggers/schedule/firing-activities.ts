import { v5 as uuidv5 } from 'uuid';
import type { Repos } from '../../db/repos.js';
import type { RunLimits } from '../../shared/run-limits.js';
import type { RunInput, RunSource } from '../../workflows/run-model.js';
import { toFailure } from '../../activities/connector-attempt.js';
import { buildRunInput } from '../../runs/run-input.js';

/** Namespace of the run ids the former firing workflow derived from (trigger, scheduled time). */
const SCHEDULED_RUN_NAMESPACE = '5d3c2a71-0b8e-4c62-9f4e-8a1d7c6b3e90';

/** The run id a `scheduledTrigger` firing gave its run: the same for every attempt at the same firing. */
export const scheduledRunId = (triggerId: string, scheduledAt: string) =>
  uuidv5(`${triggerId}\n${scheduledAt}`, SCHEDULED_RUN_NAMESPACE);

interface Firing {
  tenantId: string;
  triggerId: string;
  scheduledAt: string;
}

/** The activities of schedule firings. */
export function createTriggerActivities(repos: Pick<Repos, 'triggers' | 'workflows' | 'runs'>, limits: RunLimits) {
  /**
   * The run a firing starts, built as every trigger builds it, and listed at once under `runId`;
   * null when the trigger was deleted or its workflow archived since the schedule fired.
   */
  async function prepare(firing: Firing, runId: string, startedAt: Date): Promise<RunInput | null> {
    const trigger = await repos.triggers.find(firing.tenantId, firing.triggerId);
    if (trigger?.type !== 'schedule') return null;
    const workflow = await repos.workflows.forRun(firing.tenantId, trigger.workflowId, trigger.version ?? undefined);
    if (workflow.archivedAt) return null;
    const source: RunSource = { type: 'schedule', triggerId: trigger.id, scheduledAt: firing.scheduledAt };
    const input = buildRunInput(limits, {
      tenantId: firing.tenantId,
      workflow,
      payload: trigger.config.input,
      source,
      tenantOnFailure: workflow.tenantOnFailure,
    });
    const { tenantId } = firing;
    await repos.runs.insertTriggered({
      id: runId,
      tenantId,
      workflowId: workflow.id,
      version: workflow.version,
      startedAt,
      source,
    });
    return input;
  }

  return {
    /**
     * The first step of a run a schedule started (REVISIONS.scheduledRuns): the run's input, with
     * the trigger's payload and the version to run now, the run listed in the index; null: no run.
     */
    async startScheduledRun(req: Firing & { runId: string; startedAt: string }): Promise<RunInput | null> {
      try {
        return await prepare(req, req.runId, new Date(req.startedAt));
      } catch (err) {
        throw toFailure(err, 1);
      }
    },

    /** What a `scheduledTrigger` firing (schedules written before firings were runs) asks before starting its child. */
    async prepareScheduledRun(req: Firing): Promise<{ runId: string; input: RunInput } | null> {
      try {
        const runId = scheduledRunId(req.triggerId, req.scheduledAt);
        const input = await prepare(req, runId, new Date());
        return input && { runId, input };
      } catch (err) {
        throw toFailure(err, 1);
      }
    },
  };
}

export type TriggerActivities = ReturnType<typeof createTriggerActivities>;

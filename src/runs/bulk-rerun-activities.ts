import type { RunFilter } from '../db/runs-repo.js';
import type { StartRunDeps } from './start-run.js';
import { triggerRun } from './start-run.js';
import { toFailure } from '../activities/connector-attempt.js';
import { triggerPayload } from '../temporal/run-payload.js';

/** The activities of a bulk re-run (see the `bulkRerun` workflow). */
export function createRerunActivities(deps: StartRunDeps) {
  return {
    /** The runs a filter matches, newest first, at most `limit`. */
    async listRerunTargets(req: {
      tenantId: string;
      filter: Omit<RunFilter, 'since' | 'until'> & { since?: string; until?: string };
      limit: number;
    }): Promise<string[]> {
      const filter: RunFilter = {
        ...req.filter,
        since: req.filter.since ? new Date(req.filter.since) : undefined,
        until: req.filter.until ? new Date(req.filter.until) : undefined,
      };
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await deps.runs.list(req.tenantId, filter, {
          cursor,
          limit: Math.min(200, req.limit - ids.length),
        });
        ids.push(...page.items.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor && ids.length < req.limit);
      return ids;
    },

    /**
     * Starts one run again with its trigger payload, on its version or the latest. The new run's
     * id is derived from the operation and the run, so a retried attempt finds the run it started.
     * Null when the original's input is gone from Temporal or its workflow is archived.
     */
    async rerunOne(req: {
      tenantId: string;
      runId: string;
      operationId: string;
      version: 'same' | 'latest';
    }): Promise<string | null> {
      try {
        const row = await deps.runs.get(req.tenantId, req.runId);
        const payload = await triggerPayload(deps.temporal, req.runId);
        const { runId } = await triggerRun(deps, {
          tenantId: req.tenantId,
          workflowId: row.workflowId,
          payload,
          version: req.version === 'same' ? row.version : undefined,
          idempotencyKey: `${req.operationId}:${req.runId}`,
          source: { type: 'rerun' },
        });
        return runId;
      } catch (err) {
        const failure = toFailure(err, 1);
        if (failure.nonRetryable) return null;
        throw failure;
      }
    },
  };
}

export type RerunActivities = ReturnType<typeof createRerunActivities>;

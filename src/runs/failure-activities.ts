import { publicUrl, type Config } from '../shared/config.js';
import type { FailureTarget, Sla } from '../definitions/schema.js';
import { toFailure } from '../activities/connector-attempt.js';
import type { RunStatus, StepError } from '../workflows/run-model.js';
import { triggerRun, type StartRunDeps } from './start-run.js';

/** What a failure workflow's run is told of the run that failed (`trigger.failedRun`). */
export interface FailedRun {
  id: string;
  workflowId: string;
  workflowName: string;
  version: number;
  status: RunStatus;
  error: StepError | null;
  /** The step that failed (or parked), null when the run failed as a whole (a timeout, an SLA breach). */
  failedStep: string | null;
  startedAt: string;
  /** The run's page in the console. */
  url: string;
}

export interface FailureRunRequest {
  tenantId: string;
  target: FailureTarget;
  /** Names this failure of the run among its others: the same key starts one run, however often asked. */
  key: string;
  failedRun: Omit<FailedRun, 'url'>;
  /** Set when the run breached its SLA (and has not failed). */
  breach?: { sla: Sla; elapsed: string };
}

/** The console's page of a run: where a failure workflow's message links to. */
export const runPageUrl = (publicUrl: string, runId: string): string =>
  `${publicUrl.replace(/\/+$/, '')}/ui#/runs/${encodeURIComponent(runId)}`;

/**
 * The activity through which a failing run starts its failure workflow, as every run starts
 * (`triggerRun`). Its id derives from the failing run and `key`, so a retried attempt, or a run
 * whose worker died after asking, finds the run it started instead of starting another.
 */
export function createFailureActivities(
  deps: StartRunDeps & { config: Pick<Config, 'PUBLIC_URL' | 'API_HOST' | 'API_PORT'> },
) {
  return {
    async startFailureRun(req: FailureRunRequest): Promise<{ runId: string; replayed: boolean }> {
      const failedRun: FailedRun = { ...req.failedRun, url: runPageUrl(publicUrl(deps.config), req.failedRun.id) };
      try {
        const { runId, replayed } = await triggerRun(deps, {
          tenantId: req.tenantId,
          workflowId: req.target.workflowId,
          version: req.target.version,
          payload: { failedRun, ...(req.breach ? { breach: req.breach } : {}) },
          idempotencyKey: `failure\n${req.key}`,
          source: { type: 'failure', failedRunId: failedRun.id },
        });
        return { runId, replayed };
      } catch (err) {
        throw toFailure(err, 1);
      }
    },
  };
}

export type FailureActivities = ReturnType<typeof createFailureActivities>;

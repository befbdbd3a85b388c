import type { Sinks } from '@temporalio/workflow';
import type { InjectedSinks } from '@temporalio/worker';
import type { Logger } from '../shared/logger.js';
import type { RunRecord, RunsRepo } from '../db/runs-repo.js';
import type { Metrics } from '../shared/metrics.js';

/** The local activity through which a run keeps its row in the run index current. */
export function createRunIndexActivities(runs: RunsRepo, metrics?: Metrics) {
  return {
    async recordRun(record: RunRecord): Promise<void> {
      await runs.record(record);
      if (record.endedAt) {
        metrics?.runsFinished.inc({ status: record.status });
        metrics?.runSeconds.observe(
          { status: record.status },
          (Date.parse(record.endedAt) - Date.parse(record.startedAt)) / 1000,
        );
      }
    },
  };
}

export type RunIndexActivities = ReturnType<typeof createRunIndexActivities>;

/** The sink through which a run's final record reaches the index (see REVISIONS.endBySink). */
export interface RunIndexSinks extends Sinks {
  runIndex: { recordEnd(record: RunRecord): void };
}

/**
 * The worker's side of RunIndexSinks. The SDK calls it after the run's last workflow task and before
 * that task's completion goes to Temporal, never on replay; what it cannot write, the reconciler
 * restores once Temporal closed the run.
 */
export function runIndexSinks(activities: RunIndexActivities, logger: Logger): InjectedSinks<RunIndexSinks> {
  return {
    runIndex: {
      recordEnd: {
        fn: (_info, record) =>
          activities
            .recordRun(record)
            .catch((err: unknown) =>
              logger.warn({ err, runId: record.runId }, 'run end not recorded; the reconciler will'),
            ),
        callDuringReplay: false,
      },
    },
  };
}

/** For replayers (tests, the upgrade check): they never call the sink, but a run refers to it. */
export const REPLAY_SINKS: InjectedSinks<RunIndexSinks> = { runIndex: { recordEnd: { fn: () => undefined } } };

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

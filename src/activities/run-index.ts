import type { RunRecord, RunsRepo } from '../db/runs-repo.js';

/** The local activity through which a run keeps its row in the run index current. */
export function createRunIndexActivities(runs: RunsRepo) {
  return {
    async recordRun(record: RunRecord): Promise<void> {
      await runs.record(record);
    },
  };
}

export type RunIndexActivities = ReturnType<typeof createRunIndexActivities>;

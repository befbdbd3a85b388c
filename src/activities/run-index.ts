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
      if (record.endedAt) countEnd(record, record.endedAt, metrics);
    },
  };
}

export type RunIndexActivities = ReturnType<typeof createRunIndexActivities>;

function countEnd(record: RunRecord, endedAt: string, metrics?: Metrics): void {
  metrics?.runsFinished.inc({ status: record.status });
  metrics?.runSeconds.observe({ status: record.status }, (Date.parse(endedAt) - Date.parse(record.startedAt)) / 1000);
}

/**
 * The sinks of a run: its final record reaches the index (see REVISIONS.endBySink); an SLA breach
 * is counted in `minizaps_sla_breaches_total` (once, live: sinks are not called on replay).
 */
export interface RunIndexSinks extends Sinks {
  runIndex: { recordEnd(record: RunRecord): void; slaBreached(workflowId: string): void };
}

/**
 * How long the run's last workflow task waits for its end record: a database that hangs must not
 * hold runs open (their workflow tasks would time out and run again).
 */
const END_RECORD_WAIT_MS = 3_000;

/**
 * The worker's side of RunIndexSinks. The SDK calls it after the run's last workflow task and before
 * that task's completion goes to Temporal, never on replay. What it cannot write, or not in time,
 * the reconciler restores once Temporal closed the run.
 */
export function runIndexSinks(runs: RunsRepo, logger: Logger, metrics?: Metrics): InjectedSinks<RunIndexSinks> {
  return {
    runIndex: {
      recordEnd: {
        async fn(_info, record) {
          if (record.endedAt) countEnd(record, record.endedAt, metrics);
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<'late'>(
            (resolve) => (timer = setTimeout(() => resolve('late'), END_RECORD_WAIT_MS)),
          );
          try {
            if ((await Promise.race([runs.record(record), late])) === 'late')
              logger.warn({ runId: record.runId }, 'run end not recorded in time; the reconciler will check it');
          } catch (err) {
            logger.warn({ err, runId: record.runId }, 'run end not recorded; the reconciler will restore it');
          } finally {
            clearTimeout(timer);
          }
        },
        callDuringReplay: false,
      },
      slaBreached: {
        fn(_info, workflowId) {
          metrics?.slaBreaches.inc({ workflow: workflowId });
        },
        callDuringReplay: false,
      },
    },
  };
}

/** For replayers (tests, the upgrade check): they never call the sink, but a run refers to it. */
export const REPLAY_SINKS: InjectedSinks<RunIndexSinks> = {
  runIndex: { recordEnd: { fn: () => undefined }, slaBreached: { fn: () => undefined } },
};

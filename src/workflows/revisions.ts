import { DEFAULT_RUN_LIMITS, type RunLimits } from '../shared/run-limits.js';
import type { ConnectorDefaultsMap } from '../activities/defaults.js';

/**
 * Every replay-gated behaviour of the interpreter, each named once with the revision that brought
 * it and why. A run carries the revision it started with (`RunInput.revision`) and keeps it for
 * its whole life (continue-as-new included), so code that asks `run.since(REVISIONS.x)` takes the
 * same path on replay as it did live. Runs started before revisions existed carry none and decide
 * by the patch marker their history holds (`patchId`).
 *
 * Adding a behaviour: add an entry with the next revision, raise `REVISION`, record a history with
 * `npm run histories:record` (test/histories) and keep the older histories replaying.
 */
export const REVISIONS = {
  /** Since 2: connector steps with a timeout of at most 30 s run as local activities (no server round trip). */
  localConnectorSteps: { revision: 2, patchId: 'local-connector-steps' },
  /** Since 2: a step that exhausts its retries parks as a dead letter instead of failing the run. */
  parkFailedSteps: { revision: 2, patchId: 'park-failed-steps' },
  /**
   * Since 3: a run is bounded. Expressions run under the budgets in `RunInput.limits`, `$secret()`
   * references carry a nonce drawn per render (data cannot forge one), and the run fails with
   * RUN_STATE_TOO_LARGE once its step outputs outgrow `limits.runStateBytes`.
   */
  boundedRuns: { revision: 3 },
  /**
   * Since 3: a `wait_for_event` step without a timeout waits until its event arrives. Before, the
   * arrival was taken for a timeout (the step went to `onTimeout` or failed EVENT_TIMEOUT).
   */
  eventsWithoutTimeout: { revision: 3 },
  /**
   * Since 4: a step with a rate limit or a connection reserves its rate-limit slot with a regular
   * activity, not a local one. Local activities that finish one by one live are resolved together
   * on replay, so the branches of a parallel step waiting on them (one goes on, another sleeps)
   * issued their next commands in another order on replay than live: the replay failed as
   * nondeterministic. A regular activity's result reaches the workflow task it reached live.
   */
  rateByActivity: { revision: 4 },
  /** Since 5: the run's final record reaches the run index through a sink, not a local activity. */
  endBySink: { revision: 5 },
  /**
   * Since 6: a schedule's firing is the run. The schedule starts the interpreter told only which
   * trigger fired (`ScheduledRunStart`); the run's first step, a local activity, reads the trigger
   * and the version to run and lists the run, and the run ends skipped when the trigger is gone or
   * its workflow archived. Runs older than this never had such an input, so never take the path.
   */
  scheduledRuns: { revision: 6 },
  /**
   * Since 6: a top-level run waits for its turn in its tenant's start quota (`limits.startsPerSecond`)
   * before its first step, whatever started it, so one tenant's flood of runs waits in line
   * instead of crowding out the others.
   */
  tenantQuota: { revision: 6 },
  /**
   * Since 10: a run whose input names a failure workflow (`RunInput.onFailure`) starts it, through
   * an activity, when it fails, parks a dead letter or times out, and when its SLA alerts; a run
   * with an `sla` holds a timer for it. Runs without either issue no command they did not before.
   */
  failureWorkflows: { revision: 10 },
  /**
   * Since 11: a run whose starter reserved its turn in the tenant's start quota (`RunInput.startTurn`,
   * the API and webhooks do) takes that turn instead of asking a local activity for it: one
   * activity, workflow activation and history event less per run. Runs without it ask as before.
   */
  startTurnAtStart: { revision: 11 },
} as const satisfies Record<string, Gate>;

export interface Gate {
  revision: number;
  /** The `patched()` id by which runs started before revisions recorded this behaviour. */
  patchId?: string;
}

/** The revision new executions start with: the highest in REVISIONS. */
export const REVISION = Math.max(...Object.values(REVISIONS).map((g) => g.revision));

/** What every new execution (a trigger, a child, continue-as-new, a foreach batch) is stamped with. */
export interface RunStamp {
  revision: number;
  limits: RunLimits;
  /** Each connector's defaults when the run started; absent in runs older than them (see LEGACY_CONNECTOR_DEFAULTS). */
  connectors?: ConnectorDefaultsMap;
}

/**
 * The one builder of run stamps: the current revision, and the limits and connector defaults a
 * deployment set (the API's config and connector registry) or the run inherits (a child, a batch,
 * a continuation keeps its parent's). A run keeps its connector defaults however long it runs, so
 * a deployment that changes them changes no command of a run in flight.
 */
export const stampRun = (limits: RunLimits | undefined, connectors?: ConnectorDefaultsMap): RunStamp => ({
  revision: REVISION,
  limits: limits ?? DEFAULT_RUN_LIMITS,
  ...(connectors ? { connectors } : {}),
});

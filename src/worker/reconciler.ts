import { Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { RunClosure, RunClosuresRepo, RunWithProblem } from '../db/run-closures-repo.js';
import { createLogger, type Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/metrics.js';
import {
  closureOf,
  ENDED_BY_RUN,
  finalStateOf,
  REPORTED_PROBLEMS,
  RUN_WORKFLOW_TYPE,
} from '../temporal/run-closure.js';
import { TENANT } from '../workflows/search-attributes.js';
import { every } from '../shared/every.js';

export interface ReconcilerOptions {
  /** Names the watermark; replicas with the same name take turns (one pass at a time). */
  name?: string;
  intervalMs?: number;
  /** How far before the watermark each pass looks again, for closes the visibility store shows late. */
  overlapMs?: number;
  /** How often a pass also looks for stuck runs. */
  problemsEveryMs?: number;
}

/** Problems described per pass at most: a fleet-wide outage must not turn a pass into minutes. */
const MAX_PROBLEMS = 200;
/** Runs ended in the index but not confirmed closed, described per pass at most. */
const MAX_UNCONFIRMED = 100;
/**
 * Closed runs asked for the final record the index lost, per pass at most, and the time a pass
 * starts asking within: each answer costs a worker the replay of the run's whole history.
 */
const MAX_RESTORES = 50;
const RESTORE_BUDGET_MS = 10_000;
/** How long one closed run may take to answer for its final state. */
const QUERY_DEADLINE_MS = 5_000;

/**
 * Makes the run index follow Temporal. Each pass, under a database lock so one replica does it:
 * (1) every interpreter execution Temporal closed since the watermark (minus an overlap) marks its
 * run ended, with the status Temporal gives it; (2) every running one whose workflow tasks keep
 * failing (`TemporalReportedProblems`) shows `problem` on its run, cleared once it is gone. A run
 * that ended by itself but whose final record never reached the index (it goes through a sink
 * that may fail, see REVISIONS.endBySink) is asked for its final state, written with its close.
 * Every write is idempotent, so overlapping passes, restarts and replicas are harmless.
 */
export function createReconciler(
  deps: { client: Client; closures: RunClosuresRepo; logger: Logger; metrics?: Metrics },
  opts: ReconcilerOptions = {},
) {
  const name = opts.name ?? 'runs';
  // Each close is listed (interval + overlap) / interval times: every listing costs the server a
  // visibility query and the worker a decode, in every run.
  const overlapMs = opts.overlapMs ?? 2_000;
  const { client, closures, logger } = deps;

  async function closePass(): Promise<number> {
    const since = await closures.watermark(name);
    const from = new Date(since.getTime() - overlapMs).toISOString();
    let newest = since;
    const found: RunClosure[] = [];
    for await (const info of client.workflow.list({
      query: `WorkflowType = '${RUN_WORKFLOW_TYPE}' AND ExecutionStatus != 'Running' AND CloseTime >= '${from}'`,
    })) {
      if (info.closeTime && info.closeTime > newest) newest = info.closeTime;
      const closure = await closureOf(client, info);
      if (closure) found.push(closure);
    }
    // Closes visibility showed after the watermark had passed them: asked of Temporal one by one.
    for (const id of await closures.unconfirmed(MAX_UNCONFIRMED)) {
      const closure = await client.workflow
        .getHandle(id)
        .describe()
        .then(
          (info) => closureOf(client, info),
          () => undefined,
        );
      if (closure) found.push(closure);
    }
    const { ready, deferred } = await withFinalStates(found);
    // A close left for a later pass holds the watermark back, so that pass lists it again.
    for (const closure of deferred) if (closure.closedAt < newest) newest = closure.closedAt;
    let changed = 0;
    for (let i = 0; i < ready.length; i += 500) changed += await closures.applyClosures(ready.slice(i, i + 500));
    await closures.advance(name, newest);
    return changed;
  }

  /**
   * The closures to apply: where a run ended by itself but its final record is missing from the
   * index, with the final state the closed run answers with. Those past the pass's budget are
   * deferred; a run that does not answer is closed without its state (and logged).
   */
  async function withFinalStates(found: RunClosure[]): Promise<{ ready: RunClosure[]; deferred: RunClosure[] }> {
    const lost = new Set(await closures.withoutEnd(found.filter((c) => ENDED_BY_RUN.includes(c.closeStatus))));
    const stopAsking = Date.now() + RESTORE_BUDGET_MS;
    const ready: RunClosure[] = [];
    const deferred: RunClosure[] = [];
    let asked = 0;
    for (const closure of found) {
      if (!lost.has(closure)) ready.push(closure);
      else if (asked >= MAX_RESTORES || Date.now() >= stopAsking) deferred.push(closure);
      else {
        asked += 1;
        const final = await finalStateOf(client, closure, Date.now() + QUERY_DEADLINE_MS).catch((err: unknown) => {
          logger.warn({ err, runId: closure.id }, 'a closed run did not answer for its lost final record');
          return undefined;
        });
        ready.push(final ? { ...closure, final } : closure);
      }
    }
    if (asked > 0)
      logger.info({ asked, deferred: deferred.length }, 'final records the run index lost asked of Temporal');
    return { ready, deferred };
  }

  async function problemPass(): Promise<number> {
    const found: RunWithProblem[] = [];
    const query = `WorkflowType = '${RUN_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TemporalReportedProblems IS NOT NULL`;
    for await (const info of client.workflow.list({ query })) {
      if (found.length >= MAX_PROBLEMS) break;
      const problem = await describeProblem(client, info).catch((err: unknown) =>
        logger.debug({ err, runId: info.workflowId }, 'could not describe a stuck run'),
      );
      if (problem) found.push(problem);
    }
    await closures.setProblems(found);
    deps.metrics?.runsWithProblems.set(found.length);
    return found.length;
  }

  return {
    /** One pass; undefined when another replica holds the turn. */
    async tick(what = { problems: true }): Promise<{ closed: number; problems?: number } | undefined> {
      return closures.exclusive(name, async () => ({
        closed: await closePass(),
        ...(what.problems ? { problems: await problemPass() } : {}),
      }));
    },

    /** Runs a pass every interval while `alive()`; `stop()` waits for the pass under way. */
    start(alive: () => boolean = () => true): { stop(): Promise<void> } {
      let problemsDue = 0;
      const tick = async (): Promise<void> => {
        try {
          const problems = Date.now() >= problemsDue;
          const done = await this.tick({ problems });
          if (done && problems) problemsDue = Date.now() + (opts.problemsEveryMs ?? 5_000);
          if (done?.closed) logger.debug({ ...done }, 'run index reconciled with Temporal');
        } catch (err) {
          logger.warn({ err }, 'run index reconciliation failed; retrying');
        }
      };
      return every(opts.intervalMs ?? 2_000, tick, { alive });
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;

const ENDED_STATES = ['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'];

/** Runs the reconciler beside a worker until the worker stops. */
export function followTemporal(
  worker: Worker,
  deps: {
    connection: NativeConnection;
    namespace: string;
    closures: RunClosuresRepo;
    logger?: Logger;
    metrics?: Metrics;
  },
): { stop(): Promise<void> } {
  const client = new Client({ connection: deps.connection, namespace: deps.namespace });
  const logger = (deps.logger ?? createLogger('warn', 'worker')).child({ component: 'reconciler' });
  return createReconciler({ client, closures: deps.closures, logger, metrics: deps.metrics }).start(
    () => !ENDED_STATES.includes(worker.getState()),
  );
}

/** `{ cause, since, attempts }` of a run whose workflow task keeps failing, with the failure's message. */
async function describeProblem(client: Client, info: WorkflowExecutionInfo): Promise<RunWithProblem | undefined> {
  const reported = info.typedSearchAttributes.get(REPORTED_PROBLEMS) ?? [];
  const category = reported.find((p) => p.startsWith('category='))?.slice('category='.length);
  const cause = reported
    .find((p) => p.startsWith('cause='))
    ?.slice('cause='.length)
    .replace(/^WorkflowTaskFailedCause/, '');
  const description = await client.workflow.getHandle(info.workflowId, info.runId).describe();
  const pending = description.raw.pendingWorkflowTask;
  if (!pending) return undefined;
  const since = pending.originalScheduledTime ?? pending.scheduledTime;
  const message = await lastTaskFailure(client, info);
  return {
    id: info.workflowId,
    tenantId: info.typedSearchAttributes.get(TENANT),
    problem: {
      cause: cause ?? category ?? 'WorkflowTaskFailed',
      since: since?.seconds
        ? new Date(Number(since.seconds) * 1000 + Math.floor((since.nanos ?? 0) / 1e6)).toISOString()
        : new Date().toISOString(),
      attempts: pending.attempt ?? 1,
      ...(message ? { message: message.slice(0, 1000) } : {}),
    },
  };
}

/** The failure message of the latest failed workflow task: it sits among the last events. */
async function lastTaskFailure(client: Client, info: WorkflowExecutionInfo): Promise<string | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId: info.workflowId, runId: info.runId },
    maximumPageSize: 20,
  });
  const failed = history?.events?.find((e) => e.workflowTaskFailedEventAttributes);
  return failed?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
}

import { Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { RunClosure, RunClosuresRepo, RunWithProblem } from '../db/run-closures-repo.js';
import { createLogger, type Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/metrics.js';
import { closureOf, REPORTED_PROBLEMS, RUN_WORKFLOW_TYPE } from '../temporal/run-closure.js';
import { TENANT } from '../temporal/search-attributes.js';

export interface ReconcilerOptions {
  /** Names the watermark; replicas with the same name take turns (one pass at a time). */
  name?: string;
  intervalMs?: number;
  /** How far before the watermark each pass looks again, for closes the visibility store shows late. */
  overlapMs?: number;
}

/** Problems described per pass at most: a fleet-wide outage must not turn a pass into minutes. */
const MAX_PROBLEMS = 200;
/** Runs ended in the index but not confirmed closed, described per pass at most. */
const MAX_UNCONFIRMED = 100;

/**
 * Makes the run index follow Temporal. Each pass, under a database lock so one replica does it:
 * (1) every interpreter execution Temporal closed since the watermark (minus an overlap) marks its
 * run ended, with the status Temporal gives it; (2) every running one whose workflow tasks keep
 * failing (`TemporalReportedProblems`) shows `problem` on its run, cleared once it is gone. Every
 * write is idempotent, so overlapping passes, restarts and replicas are harmless.
 */
export function createReconciler(
  deps: { client: Client; closures: RunClosuresRepo; logger: Logger; metrics?: Metrics },
  opts: ReconcilerOptions = {},
) {
  const name = opts.name ?? 'runs';
  const overlapMs = opts.overlapMs ?? 5_000;
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
    let changed = 0;
    for (let i = 0; i < found.length; i += 500) changed += await closures.applyClosures(found.slice(i, i + 500));
    await closures.advance(name, newest);
    return changed;
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
    async tick(): Promise<{ closed: number; problems: number } | undefined> {
      return closures.exclusive(name, async () => ({ closed: await closePass(), problems: await problemPass() }));
    },

    /** Runs a pass every interval while `alive()`; `stop()` waits for the pass under way. */
    start(alive: () => boolean = () => true): { stop(): Promise<void> } {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let current: Promise<void> = Promise.resolve();
      const loop = async (): Promise<void> => {
        if (stopped || !alive()) return;
        try {
          const done = await this.tick();
          if (done?.closed) logger.debug({ ...done }, 'run index reconciled with Temporal');
        } catch (err) {
          logger.warn({ err }, 'run index reconciliation failed; retrying');
        }
        if (stopped || !alive()) return;
        timer = setTimeout(() => (current = loop()), opts.intervalMs ?? 1_000);
        // The loop never keeps a process alive on its own.
        timer.unref();
      };
      current = loop();
      return {
        async stop() {
          stopped = true;
          clearTimeout(timer);
          await current;
        },
      };
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

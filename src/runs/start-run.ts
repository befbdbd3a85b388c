import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { v5 as uuidv5 } from 'uuid';
import { archived } from '../db/workflows-repo.js';
import { allSteps } from '../definitions/validate.js';
import { unavailable } from '../shared/errors.js';
import { runStartOptions } from '../workflows/run-start.js';
import type { interpreter } from '../workflows/interpreter.js';
import type { RunInput, RunSource } from '../workflows/run-model.js';
import type { Repos } from '../db/repos.js';
import { runLimits, type Config, type RunLimitSettings } from '../shared/config.js';
import { reserveStartTurn } from '../activities/rate/activities.js';
import type { RateStore } from '../activities/rate/store.js';
import type { Metrics } from '../shared/metrics.js';
import { buildRunInput } from './run-input.js';
import { runDetails, runSummary } from '../workflows/summaries.js';
import type { Logger } from '../shared/logger.js';

/** Namespace of run ids derived from idempotency keys. */
const IDEMPOTENCY_NAMESPACE = 'a3f0c1de-6a43-4f7e-9a39-3f1b4c0e2d11';

export interface TriggerRequest {
  tenantId: string;
  workflowId: string;
  payload: unknown;
  idempotencyKey?: string;
  /** The version to run (a rerun of the same version); the latest when omitted. */
  version?: number;
  /** How the run starts; an API call unless said otherwise. */
  source?: RunSource;
}

/**
 * What starting a run needs. The API, the trigger service, webhooks and a worker re-running runs
 * in bulk each have it (their deps satisfy this type); the run starter depends on none of them.
 */
export interface StartRunDeps extends Pick<Repos, 'workflows' | 'runs'> {
  temporal: Client;
  logger: Logger;
  metrics: Pick<Metrics, 'triggers'>;
  config: RunLimitSettings & Pick<Config, 'TEMPORAL_TASK_QUEUE'>;
  /**
   * The store of the tenants' start quotas (the worker's rate store): a starter that has it reserves
   * the run's turn, so the run need not ask (REVISIONS.startTurnAtStart). Without it the run asks.
   */
  stepRates?: Pick<RateStore, 'reserve'>;
}

export interface TriggerResult {
  runId: string;
  replayed: boolean;
  eager: boolean;
  /** Whether the run's definition has a `respond` step, which may answer a waiting caller early. */
  responds: boolean;
}

/**
 * Starts a run: the one way every trigger path does (the API, webhooks, re-runs), so each is
 * counted in `minizaps_triggers_total` and logged as `run triggered` alike. `logger`: the
 * request's, so the line carries its request id.
 */
export async function triggerRun(
  deps: StartRunDeps,
  req: TriggerRequest,
  logger: Logger = deps.logger,
): Promise<TriggerResult> {
  const result = await startRun(deps, req).catch((err: unknown) => {
    deps.metrics.triggers.inc({ result: 'rejected' });
    throw err;
  });
  deps.metrics.triggers.inc({ result: result.replayed ? 'replayed' : 'accepted' });
  logger.info(
    {
      runId: result.runId,
      workflowId: req.workflowId,
      source: req.source?.type ?? 'api',
      replayed: result.replayed,
      eager: result.eager,
    },
    'run triggered',
  );
  return result;
}

/**
 * The run's turn in its tenant's start quota, reserved here so the run takes it without a local
 * activity; none (the run asks itself) without a quota, a store, or when the store fails.
 */
async function startTurn(
  deps: StartRunDeps,
  tenantId: string,
  perSecond: number | undefined,
): Promise<RunInput['startTurn']> {
  if (!perSecond || !deps.stepRates) return undefined;
  try {
    return await reserveStartTurn(deps.stepRates, { tenantId, perSecond });
  } catch (err) {
    deps.logger.warn({ err, tenantId }, 'start quota turn not reserved; the run will ask for it');
    return undefined;
  }
}

/**
 * Starts a run of a workflow (its latest version unless `version` says otherwise). With an idempotency key the run id is derived
 * from it, so Temporal itself refuses a second run with that id: a repeat, even one racing the
 * first or following a crash between start and answer, returns the same run. `eager`: the run's
 * first workflow task went straight to a worker in this process.
 */
async function startRun(deps: StartRunDeps, req: TriggerRequest): Promise<TriggerResult> {
  const wf =
    req.version === undefined
      ? await deps.workflows.forTrigger(req.tenantId, req.workflowId)
      : await deps.workflows.forRun(req.tenantId, req.workflowId, req.version);
  const runId = req.idempotencyKey
    ? uuidv5(`${req.tenantId}\n${req.workflowId}\n${req.idempotencyKey}`, IDEMPOTENCY_NAMESPACE)
    : randomUUID();
  const responds = allSteps(wf.definition).some(({ step }) => step.type === 'respond');
  if (req.idempotencyKey && (await deps.runs.exists(req.tenantId, runId)))
    return { runId, replayed: true, eager: false, responds };
  if (wf.archivedAt) throw archived(req.workflowId);

  const source = req.source ?? { type: 'api' };
  const limits = runLimits(deps.config);
  const input = buildRunInput(limits, {
    tenantId: req.tenantId,
    workflow: wf,
    payload: req.payload,
    source,
    tenantOnFailure: wf.tenantOnFailure,
    startTurn: await startTurn(deps, req.tenantId, limits.startsPerSecond),
  });
  let replayed = false;
  let eager = false;
  try {
    const handle = await deps.temporal.workflow.start<typeof interpreter>('interpreter', {
      ...runStartOptions(runId, input),
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: runSummary(input),
      staticDetails: runDetails(input),
      // On the connection of a worker in this process (npm run dev, API_WORKER=true) that has a
      // free slot, the server hands the run's first workflow task straight back to that worker
      // instead of queueing it for a poll: one server round trip and database write less per run.
      requestEagerStart: deps.temporal.connection instanceof NativeConnection,
    });
    eager = handle.eagerlyStarted;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw unavailable('Temporal', err);
    replayed = true;
  }
  // The run records itself as it goes; this row only makes it visible at once.
  await deps.runs
    .insertTriggered({
      id: runId,
      tenantId: req.tenantId,
      workflowId: wf.id,
      version: wf.version,
      idempotencyKey: req.idempotencyKey,
      startedAt: new Date(),
      source,
    })
    .catch((err: unknown) => deps.logger.warn({ err, runId }, 'run index insert failed; the run will record itself'));
  return { runId, replayed, eager, responds };
}

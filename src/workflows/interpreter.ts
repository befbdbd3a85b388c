import {
  CancellationScope,
  condition,
  ContinueAsNew,
  isCancellation,
  proxySinks,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunIndexSinks } from '../activities/run-index.js';
import { HandlerUnfinishedPolicy } from '@temporalio/common';
import { toMillis } from '../definitions/duration.js';
import { withAdmission } from './admission.js';
import { forEachItem } from './steps/foreach.js';
import {
  approvalUpdate,
  eventSignal,
  responseUpdate,
  redriveSignal,
  runStateQuery,
  type ForeachBatchInput,
  type RunInput,
  type RunResult,
  type ScheduledRunStart,
  type StepError,
} from './run-model.js';
import { runFailure, SequenceFailure, toStepError } from './errors.js';
import { offerSignal } from './event-messages.js';
import { watchCancelOn } from './cancel-on.js';
import { migrateUpdate, migrationCheckQuery } from './migration.js';
import { RunState } from './run-state.js';
import { isScheduledStart, scheduledRunInput } from './scheduled-run.js';
import { REVISIONS } from './revisions.js';
import { executeSequence } from './sequence.js';
import { tenantTurn } from './tenant-quota.js';

const { runIndex } = proxySinks<RunIndexSinks>();

/**
 * The one workflow every run executes: it walks a JSON definition step by step. Deterministic:
 * it reads nothing but its input and talks to the world only through activities, timers, child
 * workflows and signals. Every change here must keep recorded histories replaying (docs/architecture.md, "Changing the interpreter safely").
 * A schedule starts it told only which trigger fired: the run reads its input first.
 */
export async function interpreter(start: RunInput | ScheduledRunStart): Promise<RunResult> {
  const input = isScheduledStart(start) ? await scheduledRunInput(start) : start;
  if (!input) return { output: null, skipped: true };
  const identity = {
    revision: input.revision,
    limits: input.limits,
    connectors: input.connectors,
    runId: workflowInfo().workflowId,
    tenantId: input.tenantId,
    workflowId: input.workflowId,
    version: input.version,
    definition: input.definition,
    ...(input.onFailure ? { onFailure: input.onFailure } : {}),
  };
  const run = new RunState(identity, { trigger: input.trigger }, { record: true, input });
  setHandler(runStateQuery, () => run.snapshot());
  setHandler(eventSignal, ({ name, payload }) => run.deliver(name, payload));
  setHandler(redriveSignal, (decision) => run.decide(decision));
  setHandler(offerSignal, (offer) => run.keyed.offer(offer));
  setHandler(migrateUpdate, (offer) => run.acceptMove(offer), { validator: (offer) => run.assertMovable(offer) });
  setHandler(migrationCheckQuery, (offer) => run.migrationVerdict(offer));
  setHandler(approvalUpdate, (decision) => run.decideApproval(decision), {
    validator: (decision) => run.checkDecision(decision),
  });
  // A caller waiting for a `respond` step also watches the run's end, so a run that ends without one leaves it behind.
  setHandler(
    responseUpdate,
    async () => {
      await condition(() => run.response !== undefined);
      return run.response ?? { status: 204, headers: {}, body: null };
    },
    { unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON },
  );
  const main = new CancellationScope();
  const deadline = runDeadline(input);
  let timedOut = false;
  if (deadline !== undefined) {
    sleep(Math.max(0, deadline - Date.now())).then(
      () => {
        timedOut = true;
        main.cancel();
      },
      () => undefined,
    );
  }
  const sla = input.definition.sla;
  let breached: StepError | undefined;
  if (sla && run.since(REVISIONS.failureWorkflows) && !run.slaBreached) {
    // A durable timer racing the steps: nothing happens until it fires, and the run may end first.
    const started = Date.parse(run.startedAt);
    sleep(Math.max(0, started + toMillis(sla.maxDuration) - Date.now()), { summary: 'sla' }).then(
      async () => {
        run.slaBreached = true;
        runIndex.slaBreached(input.workflowId);
        const elapsed = `${(Date.now() - started) / 1000}s`;
        if (sla.onBreach !== 'cancel')
          await run.announceFailure({ status: run.status, error: null, failedStep: null, breach: { sla, elapsed } });
        if (sla.onBreach !== 'alert') {
          breached = { code: 'SLA_BREACHED', message: `the run outlasted its SLA of ${sla.maxDuration} (${elapsed})` };
          main.cancel();
        }
      },
      () => undefined,
    );
  }
  try {
    const resumed = input.resume !== undefined;
    const end = await main.run(async () => {
      if (input.definition.cancelOn) await watchCancelOn(run, input.definition.cancelOn, resumed, () => main.cancel());
      await tenantTurn(run, resumed, input.startTurn);
      return withAdmission(run, resumed, () => executeSequence(input.definition.steps, run.top, input.resume?.at));
    });
    if (end.status === 'failed') throw new SequenceFailure(end.error);
    await run.finish('completed', { output: end.output });
    return { output: end.output };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (timedOut && isCancellation(err)) {
      const error = {
        code: 'RUN_TIMED_OUT',
        message: `the run did not end within its timeout of ${input.definition.timeout}`,
      };
      await CancellationScope.nonCancellable(async () => {
        if (run.announces) await run.announceFailure({ status: 'timed_out', error, failedStep: null });
        await run.finish('timed_out', { error });
      });
      throw runFailure(error);
    }
    if (breached && isCancellation(err)) {
      const error = breached;
      await CancellationScope.nonCancellable(() => run.finish('cancelled', { error }));
      throw runFailure(error);
    }
    const by = run.keyed.cancelledBy;
    if (by && isCancellation(err)) {
      // The run cancelled itself (`cancelOn`): Temporal shows it failed with why, the index cancelled.
      const error = {
        code: 'CANCELLED_BY_EVENT',
        message: `the run was cancelled by event '${by.name}' (${by.eventId})`,
        details: { name: by.name, eventId: by.eventId },
      };
      await CancellationScope.nonCancellable(() => run.finish('cancelled', { error }));
      throw runFailure(error);
    }
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => run.finish('cancelled', {}));
      throw err;
    }
    const error = toStepError(err);
    // A cancel while the failure is told must not skip the run's end record (as for a timeout).
    await CancellationScope.nonCancellable(async () => {
      if (run.announces) await run.announceFailure({ status: 'failed', error, failedStep: run.failedStep });
      await run.finish('failed', { error });
    });
    throw runFailure(error);
  }
}

/** When the run's `timeout` passes, counted from the first execution's start (continue-as-new keeps it). */
function runDeadline(input: RunInput): number | undefined {
  if (input.definition.timeout === undefined) return undefined;
  const started = Date.parse(input.resume?.startedAt ?? workflowInfo().startTime.toISOString());
  return started + toMillis(input.definition.timeout);
}

/** A batch of a large foreach's items, run as a child of the run that holds the foreach. */
export async function foreachBatch(input: ForeachBatchInput): Promise<unknown[]> {
  const run = new RunState(input.run, input.context, { record: false });
  setHandler(runStateQuery, () => run.snapshot());
  setHandler(redriveSignal, (decision) => run.decide(decision));
  setHandler(offerSignal, (offer) => run.keyed.offer(offer));
  setHandler(approvalUpdate, (decision) => run.decideApproval(decision), {
    validator: (decision) => run.checkDecision(decision),
  });
  try {
    return await forEachItem(
      input.step,
      { scope: run.top, runSequence: executeSequence },
      input.items,
      input.offset,
      input.keySuffix,
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw runFailure(toStepError(err));
  } finally {
    // A batch that waited on a key ends only once it has answered every offer.
    if (run.keyed.used) await run.keyed.close();
  }
}

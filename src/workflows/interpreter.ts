import {
  CancellationScope,
  ContinueAsNew,
  isCancellation,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { toMillis } from '../definitions/duration.js';
import { withAdmission } from './admission.js';
import { forEachItem } from './steps/foreach.js';
import {
  eventSignal,
  redriveSignal,
  runStateQuery,
  type ForeachBatchInput,
  type RunInput,
  type RunResult,
  type ScheduledRunStart,
} from './run-model.js';
import { runFailure, SequenceFailure, toStepError } from './errors.js';
import { offerSignal } from './event-messages.js';
import { watchCancelOn } from './cancel-on.js';
import { RunState } from './run-state.js';
import { isScheduledStart, scheduledRunInput } from './scheduled-run.js';
import { executeSequence } from './sequence.js';
import { tenantTurn } from './tenant-quota.js';

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
  };
  const run = new RunState(identity, { trigger: input.trigger }, { record: true, input });
  setHandler(runStateQuery, () => run.snapshot());
  setHandler(eventSignal, ({ name, payload }) => run.deliver(name, payload));
  setHandler(redriveSignal, (decision) => run.decide(decision));
  setHandler(offerSignal, (offer) => run.keyed.offer(offer));
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
  try {
    const resumed = input.resume !== undefined;
    const end = await main.run(async () => {
      if (input.definition.cancelOn) await watchCancelOn(run, input.definition.cancelOn, resumed, () => main.cancel());
      await tenantTurn(run, resumed);
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
      await CancellationScope.nonCancellable(() => run.finish('timed_out', { error }));
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
    await run.finish('failed', { error });
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

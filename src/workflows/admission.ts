import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { toMillis } from '../definitions/duration.js';
import type { Definition } from '../definitions/schema.js';
import type { AdmissionActivities } from '../runs/admission-activities.js';
import {
  acquireSignal,
  admitSignal,
  releaseSignal,
  type Admission,
  type GateRule,
  type GateState,
} from './admission-messages.js';
import type { SequenceEnd } from './context.js';
import type { RunState } from './run-state.js';

const { requestAdmission, releaseAdmission } = proxyActivities<AdmissionActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** A rate as a window: 5 per second is 5 in any 1000 ms, 0.5 per second 1 in any 2000 ms. */
function throttleWindow(t: { perSecond?: number; perMinute?: number }): { perWindow: number; windowMs: number } {
  const [rate, unitMs] = t.perSecond !== undefined ? [t.perSecond, 1000] : [t.perMinute ?? 1, 60_000];
  const perWindow = Math.max(1, Math.floor(rate));
  return { perWindow, windowMs: Math.round((perWindow / rate) * unitMs) };
}

/** The gates a definition asks for, each with the expression naming its key. */
function rulesOf(definition: Definition): { rule: GateRule; key?: string }[] {
  const rules: { rule: GateRule; key?: string }[] = [];
  const { debounce, throttle, concurrency } = definition;
  if (debounce) rules.push({ rule: { kind: 'debounce', periodMs: toMillis(debounce.period) }, key: debounce.key });
  if (throttle) rules.push({ rule: { kind: 'throttle', ...throttleWindow(throttle) }, key: throttle.key });
  if (concurrency) rules.push({ rule: { kind: 'concurrency', limit: concurrency.limit }, key: concurrency.key });
  return rules;
}

/**
 * Runs `body` once the definition's admission gates let the run in: debounce, then throttle, then
 * concurrency, each a gate workflow per (tenant, workflow, kind, key). A run without these fields
 * goes straight on, as every run did before them (so recorded histories replay unchanged). A run
 * that continued as new was admitted before and keeps its slot.
 */
export async function withAdmission(
  run: RunState,
  resumed: boolean,
  body: () => Promise<SequenceEnd>,
): Promise<SequenceEnd> {
  const { definition, tenantId, workflowId, runId } = run.identity;
  const rules = resumed ? [] : rulesOf(definition);
  if (rules.length === 0) return body();
  const admissions = new Map<string, Admission>();
  setHandler(admitSignal, ({ gateId, ...admission }) => void admissions.set(gateId, admission));
  const held: string[] = [];
  try {
    for (const { rule, key } of rules) {
      const keyValue =
        key === undefined ? '' : String(JSON.stringify(await run.evaluate(key, run.top.context())) ?? '').slice(0, 200);
      const gateId = `admission:${tenantId}:${workflowId}:${rule.kind}:${keyValue}`;
      await requestAdmission({ gateId, request: { ...rule, runId, startedAt: workflowInfo().startTime.getTime() } });
      held.push(gateId);
      await condition(() => admissions.has(gateId));
      const admission = admissions.get(gateId);
      if (admission && !admission.admitted)
        return { status: 'completed', output: { debounced: true, supersededBy: admission.supersededBy ?? null } };
    }
    return await body();
  } finally {
    // Free the slot (or the place in the queue) however the run ends, a cancellation included.
    await CancellationScope.nonCancellable(() =>
      Promise.all(held.map((gateId) => releaseAdmission({ gateId, runId }))),
    );
  }
}

/** How long a gate with nothing to do stays before it ends (a new request starts it again). */
const IDLE_MS = 60_000;
/** Admissions per execution before the gate continues as new, so its history stays small. */
const ADMISSIONS_PER_EXECUTION = 500;

/**
 * One admission gate: a FIFO queue of waiting runs, the runs holding a slot (concurrency), the
 * pacing (throttle) or the newest run (debounce). Runs ask through signal-with-start; the gate
 * admits them with a signal. Ends when idle; its state crosses continue-as-new.
 */
export async function admissionGate(initial: GateState): Promise<void> {
  let rule = initial.rule;
  const queue = [...initial.queue];
  const holders = new Set(initial.holders);
  const recent = [...(initial.recent ?? [])];
  // Before the handlers: signals that came with the start are delivered as soon as one is set.
  const tell = (runId: string, admission: Admission) =>
    getExternalWorkflowHandle(runId)
      .signal(admitSignal, { gateId: workflowInfo().workflowId, ...admission })
      .then(
        () => true,
        () => false,
      );
  let newest = initial.newest;
  setHandler(acquireSignal, ({ runId, startedAt, ...next }) => {
    rule = next;
    if (holders.has(runId) || queue.includes(runId)) return;
    if (rule.kind === 'debounce') {
      // The newest by start time wins: a request that arrives late, from a run started before the
      // newest one seen, is superseded at once. Requests without a start time rank by arrival.
      if (startedAt !== undefined && newest !== undefined && startedAt < newest.startedAt) {
        void tell(runId, { admitted: false, supersededBy: newest.runId });
        return;
      }
      if (startedAt !== undefined) newest = { runId, startedAt };
      for (const older of queue.splice(0)) void tell(older, { admitted: false, supersededBy: runId });
    }
    queue.push(runId);
  });
  setHandler(releaseSignal, ({ runId }) => {
    holders.delete(runId);
    const i = queue.indexOf(runId);
    if (i >= 0) queue.splice(i, 1);
  });
  const free = () => rule.kind !== 'concurrency' || holders.size < (rule.limit ?? 1);

  for (let admitted = 0; admitted < ADMISSIONS_PER_EXECUTION && !workflowInfo().continueAsNewSuggested;) {
    const ready = await condition(() => queue.length > 0 && free(), IDLE_MS);
    if (!ready) {
      if (queue.length === 0 && holders.size === 0) return;
      continue;
    }
    if (rule.kind === 'debounce') {
      // The newest run goes once `period` passed without a newer one.
      const newest = queue.at(-1);
      if (await condition(() => queue.at(-1) !== newest, rule.periodMs ?? 0)) continue;
    }
    const runId = queue.shift();
    if (runId === undefined) continue;
    if (rule.kind === 'concurrency') holders.add(runId);
    // A run that ended meanwhile cannot take its slot.
    if (!(await tell(runId, { admitted: true }))) holders.delete(runId);
    admitted += 1;
    if (rule.kind === 'throttle') await paced(rule, recent);
  }
  await continueAsNew<typeof admissionGate>({ rule, queue, holders: [...holders], recent, newest });
}

/** Counts an admission; once the window holds `perWindow`, waits until its oldest falls out. */
async function paced(rule: GateRule, recent: number[]): Promise<void> {
  const windowMs = rule.windowMs ?? 1000;
  recent.push(Date.now());
  while (recent.length > 0 && (recent[0] ?? 0) <= Date.now() - windowMs) recent.shift();
  if (recent.length >= (rule.perWindow ?? 1)) await sleep(Math.max(1, (recent[0] ?? 0) + windowMs - Date.now()));
}

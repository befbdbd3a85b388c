import {
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setCurrentDetails,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ConnectorDefaultsMap } from '../activities/defaults.js';
import type { DeadLetterActivities } from '../activities/dead-letters.js';
import type { RunIndexActivities, RunIndexSinks } from '../activities/run-index.js';
import type { ExpressionActivities } from '../activities/expressions.js';
import type { FailureActivities, FailureRunRequest } from '../runs/failure-activities.js';
import { type EvalOptions, evaluate, evaluateNow } from '../definitions/expressions/evaluate.js';
import { NEEDS_JSONATA } from '../definitions/expressions/fast-path.js';
import { render, renderNow } from '../definitions/expressions/templates.js';
import { DEFAULT_RUN_LIMITS, LEGACY_EXPRESSION_LIMITS, type RunLimits } from '../shared/run-limits.js';
import type { Definition, FailureTarget, Step } from '../definitions/schema.js';
import { SequenceFailure } from './errors.js';
import type {
  ApprovalDecision,
  RedriveDecision,
  ResumeState,
  RunInput,
  RunResponse,
  RunSnapshot,
  RunStatus,
  StepError,
} from './run-model.js';
import {
  MIGRATION_REFUSED,
  migrationVerdict,
  type MigrationAcceptance,
  type MigrationOffer,
  type MigrationVerdict,
} from './migration.js';
import { KeyedWaits } from './keyed-events.js';
import { REVISIONS, type Gate } from './revisions.js';
import { Scope } from './scope.js';
import { VERSION } from './search-attributes.js';
import { parkedDetails } from './summaries.js';

/** Status changes while the run goes on are best effort: the run never waits on the index. */
const { recordRun: recordProgress } = proxyLocalActivities<RunIndexActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});
/** The final record and dead letters are retried until the database takes them: nothing is lost. */
const untilStored = { startToCloseTimeout: '10s', retry: { initialInterval: '1s', maximumInterval: '1m' } } as const;
const { recordRun: recordEnd } = proxyLocalActivities<RunIndexActivities>(untilStored);
const { runIndex } = proxySinks<RunIndexSinks>();
const { recordDeadLetter } = proxyLocalActivities<DeadLetterActivities>(untilStored);
/** Expressions JSONata itself must evaluate; a limit or a user's mistake fails at once. */
const { evaluateExpression } = proxyLocalActivities<ExpressionActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['EXPRESSION_LIMIT', 'EXPRESSION_ERROR'] },
});

/**
 * Starting a failure workflow: one server call, retried for about half an hour while Temporal or
 * the database is away; a missing or archived failure workflow is not retried (the activity says so).
 */
const { startFailureRun } = proxyActivities<FailureActivities>({
  startToCloseTimeout: '10s',
  summary: 'onFailure',
  retry: { initialInterval: '1s', maximumInterval: '1m', maximumAttempts: 40 },
});

export interface RunIdentity {
  revision?: number;
  limits?: RunLimits;
  connectors?: ConnectorDefaultsMap;
  runId: string;
  tenantId: string;
  workflowId: string;
  version: number;
  definition: Definition;
  /** The failure workflow the run starts when it fails (see `RunState.announceFailure`). */
  onFailure?: FailureTarget;
}

/**
 * The live state of one run: its status, the top-level scope of steps, buffered events and the
 * run index. `record: false` for foreach batches, which are part of their parent's run.
 */
export class RunState {
  status: RunStatus = 'running';
  result: unknown = null;
  error: StepError | null = null;
  readonly top: Scope;
  /** Waits on events by key (`POST /v1/events`) and the run's `cancelOn`. */
  readonly keyed: KeyedWaits;
  private readonly events = new Map<string, unknown[]>();
  private readonly decisions = new Map<string, RedriveDecision | undefined>();
  /** Approvals waiting now, by id, with the decision once one arrived (the first only). */
  private readonly approvals = new Map<string, ApprovalDecision | undefined>();
  /** Approvals that ended decided: a later decision on them is told it came second, not too late. */
  private readonly decidedApprovals = new Set<string>();
  /** What the first `respond` step answered, for callers waiting on the run. */
  response: RunResponse | undefined;
  /** The current details of each step parked now (parallel branches may park at once), by dead letter. */
  private readonly parkedNow = new Map<string, string>();
  private recorded = 0;
  private waiting = 0;
  /** Failure workflows this execution started: each failure's number, in its start's key. */
  private failures = 0;
  /** Parked steps whose failure was announced and not re-driven: a discard that ends the run announces nothing more. */
  private parksAnnounced = 0;
  /** The step whose failure ends the run, when one does. */
  failedStep: string | null = null;
  /** The run breached its SLA (carried across continue-as-new). */
  slaBreached = false;
  private stateBytes = 0;
  /** A newer version the run accepted to move to at its next step boundary (see `move`). */
  private pendingMove: MigrationOffer | undefined;
  /** The version the run last moved from; undefined while it runs the version it started on. */
  private movedFrom: number | undefined;
  /** `run` in expressions: its `version` follows a move. */
  private readonly runContext: Record<string, unknown>;
  /** How expressions of this run are evaluated: under its budgets (see revisions.ts). */
  readonly evaluation: EvalOptions;

  constructor(
    readonly identity: RunIdentity,
    context: { trigger: unknown; steps?: Record<string, unknown>; run?: Record<string, unknown> },
    private readonly opts: { record: boolean; input?: RunInput },
  ) {
    const info = workflowInfo();
    this.keyed = new KeyedWaits(identity.tenantId);
    this.evaluation = { limits: this.bounded ? (identity.limits ?? DEFAULT_RUN_LIMITS) : LEGACY_EXPRESSION_LIMITS };
    const source = opts.input?.source;
    // `source` only where the run has one, so a run older than sources sees the context it always did.
    const run = context.run ?? {
      id: identity.runId,
      workflowId: identity.workflowId,
      version: identity.version,
      startedAt: info.startTime.toISOString(),
      ...(source ? { source } : {}),
    };
    this.runContext = run;
    this.movedFrom = opts.input?.movedFrom;
    this.top = new Scope(this, undefined, { trigger: context.trigger, run, inherited: context.steps ?? {} });
    const resume = opts.input?.resume;
    if (resume) {
      this.top.restore(resume.steps, resume.executed, resume.lastOutput);
      this.recorded = resume.recorded;
      this.slaBreached = resume.slaBreached ?? false;
      for (const [name, payloads] of resume.events) this.events.set(name, payloads);
    }
  }

  /** The input of a top-level run (not of a foreach batch): what continue-as-new starts again with. */
  get input(): RunInput | undefined {
    return this.opts.input;
  }

  /**
   * Whether this execution has a replay-gated behaviour (see revisions.ts); one started before
   * revisions has it if its history says so by the gate's patch marker.
   */
  since(gate: Gate): boolean {
    return (this.identity.revision ?? 1) >= gate.revision || (gate.patchId !== undefined && patched(gate.patchId));
  }

  /** Whether the run's state and expressions are bounded (revision 3 on). */
  get bounded(): boolean {
    return this.since(REVISIONS.boundedRuns);
  }

  /**
   * A bare expression's value. The everyday ones are evaluated at once, here; the rest by JSONata,
   * which since revision 3 runs in a local activity, outside the workflow sandbox: JSONata awaits
   * at every node, and on Node 20 the sandbox's async hooks keep a context per await until the
   * workflow task ends, so a long evaluation in the sandbox can crash its worker thread. The
   * result is recorded in history, so a replay takes it from there.
   */
  async evaluate(expression: string, scope: unknown, opts: EvalOptions = this.evaluation): Promise<unknown> {
    if (!this.bounded) return evaluate(expression, scope, opts);
    const now = evaluateNow(expression, scope, opts);
    return now === NEEDS_JSONATA ? evaluateExpression({ expression, scope, opts }) : now;
  }

  /** A JSON value with its `{{ }}` templates evaluated, as `evaluate` does. */
  async render(template: unknown, scope: unknown, opts: EvalOptions = this.evaluation): Promise<unknown> {
    if (!this.bounded) return render(template, scope, opts);
    const now = renderNow(template, scope, opts);
    return now === NEEDS_JSONATA ? evaluateExpression({ template, scope, opts }) : now;
  }

  /**
   * Counts a change in the size of the outputs the run holds; past `limits.runStateBytes` the
   * run fails: its state would otherwise outgrow a worker's memory and every continue-as-new.
   */
  account(deltaBytes: number): void {
    this.stateBytes += deltaBytes;
    const max = (this.identity.limits ?? DEFAULT_RUN_LIMITS).runStateBytes;
    if (this.stateBytes > max) {
      throw new SequenceFailure({
        code: 'RUN_STATE_TOO_LARGE',
        message: `the run's step outputs hold ${this.stateBytes} bytes, more than its bound of ${max}`,
        details: { bytes: this.stateBytes, max },
      });
    }
  }

  get maxSteps(): number {
    return this.identity.definition.maxSteps ?? 1000;
  }

  deliver(name: string, payload: unknown): void {
    const queue = this.events.get(name) ?? [];
    queue.push(payload);
    this.events.set(name, queue);
  }

  hasEvent(name: string): boolean {
    return (this.events.get(name)?.length ?? 0) > 0;
  }

  takeEvent(name: string): unknown {
    return this.events.get(name)?.shift() ?? null;
  }

  /** An approval step starts taking decisions for approval `id`. */
  openApproval(id: string): void {
    this.approvals.set(id, undefined);
  }

  /** The decision taken on approval `id`, once one was. */
  approvalDecision(id: string): ApprovalDecision | undefined {
    return this.approvals.get(id);
  }

  /** The approval step ended (decided, timed out, cancelled): no decision is taken any more. */
  closeApproval(id: string): void {
    if (this.approvals.get(id) !== undefined) this.decidedApprovals.add(id);
    this.approvals.delete(id);
  }

  /** Refuses a decision the run cannot take: the approval is not waiting, or was decided. */
  checkDecision(decision: ApprovalDecision): void {
    const decided = this.decidedApprovals.has(decision.approvalId);
    if (!decided && !this.approvals.has(decision.approvalId))
      throw ApplicationFailure.nonRetryable('this approval is not waiting for a decision', 'APPROVAL_CLOSED');
    if (decided || this.approvals.get(decision.approvalId) !== undefined)
      throw ApplicationFailure.nonRetryable('this approval was already decided', 'APPROVAL_DECIDED');
  }

  /** Takes a decision checked by `checkDecision`; synchronous, so a second one in the same task sees it. */
  decideApproval(decision: ApprovalDecision): { accepted: true } {
    this.checkDecision(decision);
    this.approvals.set(decision.approvalId, decision);
    return { accepted: true };
  }

  /** Keeps the first `respond` step's answer; later ones answer nobody. Whether this one was kept. */
  respond(response: RunResponse): boolean {
    if (this.response !== undefined) return false;
    this.response = response;
    return true;
  }

  /**
   * Parks a step that failed for good: records a dead letter, shows the run as failed, and waits
   * (durably, holding every earlier output) until the dead letter is re-driven or discarded.
   */
  async park(step: Step, failure: { error: StepError; attempts: number; input: unknown }): Promise<RedriveDecision> {
    const { identity } = this;
    const id = uuid4();
    const details = failure.error.details;
    const status =
      typeof details === 'object' && details !== null && 'status' in details && typeof details.status === 'number'
        ? details.status
        : null;
    this.decisions.set(id, undefined);
    const createdAt = new Date().toISOString();
    await recordDeadLetter({
      id,
      tenantId: identity.tenantId,
      runId: identity.runId,
      executionId: workflowInfo().workflowId,
      workflowId: identity.workflowId,
      version: identity.version,
      stepId: step.id,
      stepType: step.type,
      errorCode: failure.error.code,
      httpStatus: status,
      error: failure.error,
      attempts: failure.attempts,
      input: failure.input,
      createdAt,
    });
    const before = this.status;
    this.showParked(
      id,
      parkedDetails({ stepId: step.id, errorCode: failure.error.code, deadLetterId: id, since: createdAt }),
    );
    await this.setParked(true, failure.error);
    if (this.announces)
      await this.announceFailure({ status: 'failed', error: failure.error, failedStep: step.id, parked: true });
    this.parksAnnounced += 1;
    await condition(() => this.decisions.get(id) !== undefined);
    const decision = this.decisions.get(id) ?? { deadLetterId: id, action: 'discard' };
    this.decisions.delete(id);
    this.showParked(id, undefined);
    if (decision.action === 'redrive') {
      this.parksAnnounced -= 1;
      await this.setParked(false, null, before);
    }
    return decision;
  }

  /** Whether the run starts a failure workflow when it fails (no await otherwise: runs without one keep their microtasks as they were). */
  get announces(): boolean {
    return this.identity.onFailure !== undefined && this.since(REVISIONS.failureWorkflows);
  }

  /** When the run started: its first execution's start (continue-as-new keeps it). */
  get startedAt(): string {
    const run = this.top.context().run;
    const started = typeof run === 'object' && run !== null && 'startedAt' in run ? run.startedAt : undefined;
    return (
      this.opts.input?.resume?.startedAt ??
      (typeof started === 'string' ? started : workflowInfo().startTime.toISOString())
    );
  }

  /**
   * Starts the run's failure workflow (`RunInput.onFailure`) for one failure: the run failed,
   * parked a step, timed out, or breached its SLA (`breach`). Each failure of an execution has its
   * own key, so each starts one run, and a worker that dies while asking cannot start two. Nothing
   * for a run without a failure workflow, or older than REVISIONS.failureWorkflows. A run that
   * ends failed by discarding the step it parked announced that failure when it parked.
   */
  async announceFailure(failure: {
    status: RunStatus;
    error: StepError | null;
    failedStep: string | null;
    breach?: FailureRunRequest['breach'];
    /** A step parks: each park is its own failure, whatever else is parked. */
    parked?: boolean;
  }): Promise<void> {
    const target = this.identity.onFailure;
    if (!target || !this.announces) return;
    if (!failure.breach && !failure.parked && this.parksAnnounced > 0) return;
    const info = workflowInfo();
    const { runId, tenantId, workflowId, version, definition } = this.identity;
    const nth = failure.breach ? 'breach' : String((this.failures += 1));
    try {
      await startFailureRun({
        tenantId,
        target,
        key: `${info.workflowId}\n${info.runId}\n${nth}`,
        failedRun: {
          id: runId,
          workflowId,
          workflowName: definition.name,
          version,
          status: failure.status,
          error: failure.error,
          failedStep: failure.failedStep,
          startedAt: this.startedAt,
        },
        ...(failure.breach ? { breach: failure.breach } : {}),
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The failure workflow is gone or archived, or could not be started for half an hour: the run goes on as it would have.
      log.warn('failure workflow not started', {
        runId,
        target,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Shows (or, with no details, stops showing) a parked step in the run's current details. */
  private showParked(deadLetterId: string, details: string | undefined): void {
    if (details === undefined) this.parkedNow.delete(deadLetterId);
    else this.parkedNow.set(deadLetterId, details);
    setCurrentDetails([...this.parkedNow.values()].join('\n\n'));
  }

  /** Takes a re-drive or discard for a parked step of this run; others are ignored. */
  decide(decision: RedriveDecision): void {
    if (this.decisions.has(decision.deadLetterId)) this.decisions.set(decision.deadLetterId, decision);
  }

  private async setParked(parked: boolean, error: StepError | null, resumeAs: RunStatus = 'running'): Promise<void> {
    this.status = parked ? 'failed' : resumeAs;
    this.error = error;
    await this.progress();
  }

  /** A step starts or stops waiting (timer, event); the run is `waiting` while nothing else runs. */
  async changeWaiting(delta: 1 | -1): Promise<void> {
    this.waiting += delta;
    const status = this.waiting > 0 ? 'waiting' : 'running';
    if (status === this.status) return;
    this.status = status;
    await this.progress();
  }

  private async progress(): Promise<void> {
    if (!this.opts.record) return;
    try {
      await recordProgress(this.record());
    } catch {
      // The final record catches the index up; a status blip must not stop the run.
    }
  }

  async finish(status: RunStatus, outcome: { output?: unknown; error?: StepError }): Promise<void> {
    // Last, so nothing the run owes a correlation workflow is left behind (runs that never waited on a key skip it).
    if (this.keyed.used) await this.keyed.close();
    this.status = status;
    this.result = outcome.output ?? null;
    this.error = outcome.error ?? null;
    if (!this.opts.record) return;
    const record = { ...this.record(), endedAt: new Date().toISOString() };
    if (this.since(REVISIONS.endBySink)) runIndex.recordEnd(record);
    else await recordEnd(record);
  }

  /** How this run judges an offer to move to a newer version, from its own state (see migration.ts). */
  migrationVerdict(offer: MigrationOffer): MigrationVerdict {
    const { workflowId, version, definition } = this.identity;
    const pendingVersion = this.pendingMove?.version;
    return migrationVerdict({ workflowId, version, definition, pendingVersion, steps: this.top.snapshot() }, offer);
  }

  /** The `migrate` update's validator: a refusal says why, and leaves no trace in the run's history. */
  assertMovable(offer: MigrationOffer): void {
    const verdict = this.migrationVerdict(offer);
    if (!verdict.compatible) throw ApplicationFailure.create({ type: MIGRATION_REFUSED, message: verdict.reason });
  }

  /** Takes an offer the validator let through: the run moves at its next step boundary. */
  acceptMove(offer: MigrationOffer): MigrationAcceptance {
    this.pendingMove = offer;
    return { from: this.identity.version, to: offer.version };
  }

  /** Whether a top-level step boundary should move the run now. */
  get moveDue(): boolean {
    return this.pendingMove !== undefined;
  }

  /**
   * Moves the run to the version it accepted, between two top-level steps: from here on it runs the
   * new definition, records and lists itself under the new version, and continues as new with it.
   * The offer is judged again against what the run did since it accepted (a step that had not
   * started then); if that no longer fits, the run stays. Answers the new top-level steps, or
   * undefined when the run stays.
   */
  async move(): Promise<Step[] | undefined> {
    const offer = this.pendingMove;
    this.pendingMove = undefined;
    if (!offer) return undefined;
    const verdict = this.migrationVerdict(offer);
    if (!verdict.compatible) {
      log.warn('the run stays on its version', {
        version: this.identity.version,
        offered: offer.version,
        reason: verdict.reason,
      });
      return undefined;
    }
    const from = this.identity.version;
    this.identity.version = offer.version;
    this.identity.definition = offer.definition;
    this.movedFrom = from;
    this.runContext.version = offer.version;
    const input = this.opts.input;
    if (input) this.opts.input = { ...input, version: offer.version, definition: offer.definition, movedFrom: from };
    upsertSearchAttributes([{ key: VERSION, value: offer.version }]);
    await this.progress();
    return offer.definition.steps;
  }

  snapshot(): RunSnapshot {
    return { status: this.status, steps: this.top.snapshot(), result: this.result, error: this.error };
  }

  /** What continue-as-new carries to go on at the top-level step `at`. */
  resumeState(at: string): ResumeState {
    const startedAt = this.opts.input?.resume?.startedAt ?? workflowInfo().startTime.toISOString();
    return {
      at,
      steps: this.top.snapshot(),
      executed: this.top.executed,
      recorded: this.recorded,
      lastOutput: this.top.lastOutput,
      events: [...this.events],
      startedAt,
      ...(this.slaBreached ? { slaBreached: true } : {}),
    };
  }

  private record() {
    const { runId, tenantId, workflowId, version } = this.identity;
    this.recorded += 1;
    const startedAt = this.opts.input?.resume?.startedAt ?? workflowInfo().startTime.toISOString();
    // The task's time orders this record across executions (see RunRecord.recordAt): unlike the
    // execution's start time, it moves on after a reset.
    const execution = { recordAt: new Date().toISOString(), executionId: workflowInfo().runId };
    return {
      runId,
      tenantId,
      workflowId,
      version,
      startedAt,
      endedAt: null,
      seq: this.recorded,
      ...execution,
      source: this.opts.input?.source,
      ...(this.movedFrom === undefined ? {} : { movedFrom: this.movedFrom }),
      ...this.snapshot(),
    };
  }
}

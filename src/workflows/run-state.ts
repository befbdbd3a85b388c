import { proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { RunIndexActivities } from '../activities/run-index.js';
import type { Definition } from '../definitions/schema.js';
import type { ResumeState, RunInput, RunSnapshot, RunStatus, StepError } from './messages.js';
import { Scope } from './scope.js';

/** Status changes while the run goes on are best effort: the run never waits on the index. */
const { recordRun: recordProgress } = proxyLocalActivities<RunIndexActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});
/** The final record is retried until the database takes it, so the index always catches up. */
const { recordRun: recordEnd } = proxyLocalActivities<RunIndexActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

export interface RunIdentity {
  runId: string;
  tenantId: string;
  workflowId: string;
  version: number;
  definition: Definition;
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
  private readonly events = new Map<string, unknown[]>();
  private recorded = 0;
  private waiting = 0;

  constructor(
    readonly identity: RunIdentity,
    context: { trigger: unknown; steps?: Record<string, unknown>; run?: Record<string, unknown> },
    private readonly opts: { record: boolean; input?: RunInput },
  ) {
    const info = workflowInfo();
    const run = context.run ?? { id: identity.runId, workflowId: identity.workflowId, version: identity.version, startedAt: info.startTime.toISOString() };
    this.top = new Scope(this, undefined, { trigger: context.trigger, run, inherited: context.steps ?? {} });
    const resume = opts.input?.resume;
    if (resume) {
      this.top.restore(resume.steps, resume.executed, resume.lastOutput);
      this.recorded = resume.recorded;
      for (const [name, payloads] of resume.events) this.events.set(name, payloads);
    }
  }

  /** The input of a top-level run (not of a foreach batch): what continue-as-new starts again with. */
  get input(): RunInput | undefined {
    return this.opts.input;
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

  /** A step starts or stops waiting (timer, event); the run is `waiting` while nothing else runs. */
  async changeWaiting(delta: 1 | -1): Promise<void> {
    this.waiting += delta;
    const status = this.waiting > 0 ? 'waiting' : 'running';
    if (status === this.status) return;
    this.status = status;
    if (!this.opts.record) return;
    try {
      await recordProgress(this.record());
    } catch {
      // The final record catches the index up; a status blip must not stop the run.
    }
  }

  async finish(status: RunStatus, outcome: { output?: unknown; error?: StepError }): Promise<void> {
    this.status = status;
    this.result = outcome.output ?? null;
    this.error = outcome.error ?? null;
    if (this.opts.record) await recordEnd({ ...this.record(), endedAt: new Date().toISOString() });
  }

  snapshot(): RunSnapshot {
    return { status: this.status, steps: this.top.snapshot(), result: this.result, error: this.error };
  }

  /** What continue-as-new carries to go on at the top-level step `at`. */
  resumeState(at: string): ResumeState {
    return { at, steps: this.top.snapshot(), executed: this.top.executed, recorded: this.recorded, lastOutput: this.top.lastOutput, events: [...this.events] };
  }

  private record() {
    const { runId, tenantId, workflowId, version } = this.identity;
    this.recorded += 1;
    return { runId, tenantId, workflowId, version, startedAt: workflowInfo().startTime.toISOString(), endedAt: null, seq: this.recorded, ...this.snapshot() };
  }
}


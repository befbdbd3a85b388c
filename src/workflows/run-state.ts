import { proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { RunIndexActivities } from '../activities/run-index.js';
import type { Definition, Step } from '../definitions/schema.js';
import type { RunInput, RunSnapshot, RunStatus, StepError, StepState } from './messages.js';

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

/** The live state of one run: per-step states, the run context expressions see, the status. */
export class RunState {
  status: RunStatus = 'running';
  result: unknown = null;
  /** Output of the last completed step: the run's result unless a `succeed` step says otherwise. */
  lastOutput: unknown = null;
  error: StepError | null = null;
  private readonly steps = new Map<string, StepState>();
  private executed = 0;
  private recorded = 0;
  /** The run context: `{ trigger, steps: { <id>: { status, output, error, attempts } }, run }`. */
  readonly context: { trigger: unknown; steps: Record<string, Pick<StepState, 'status' | 'output' | 'error' | 'attempts'>>; run: Record<string, unknown> };

  constructor(private readonly input: RunInput) {
    const info = workflowInfo();
    this.context = {
      trigger: input.trigger,
      steps: {},
      run: { id: info.workflowId, workflowId: input.workflowId, version: input.version, startedAt: info.startTime.toISOString() },
    };
  }

  get definition(): Definition {
    return this.input.definition;
  }

  get tenantId(): string {
    return this.input.tenantId;
  }

  get workflowId(): string {
    return this.input.workflowId;
  }

  get maxSteps(): number {
    return this.input.definition.maxSteps ?? 1000;
  }

  /** Marks a step as started and returns how many times it has run in this run. */
  begin(step: Step): number {
    this.executed += 1;
    const previous = this.steps.get(step.id);
    const executions = (previous?.executions ?? 0) + 1;
    this.put({ id: step.id, type: step.type, status: 'running', attempts: 0, executions, startedAt: now(), endedAt: null, output: null, error: null });
    return executions;
  }

  get executedSteps(): number {
    return this.executed;
  }

  end(stepId: string, change: Pick<StepState, 'status'> & Partial<Pick<StepState, 'output' | 'error' | 'attempts'>>): void {
    const state = this.steps.get(stepId);
    if (state) this.put({ ...state, ...change, endedAt: now() });
    if (change.status === 'completed') this.lastOutput = change.output ?? null;
  }

  async setStatus(status: 'running' | 'waiting', stepId?: string): Promise<void> {
    this.status = status;
    const state = stepId ? this.steps.get(stepId) : undefined;
    if (state) this.put({ ...state, status });
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
    await recordEnd({ ...this.record(), endedAt: now() });
  }

  snapshot(): RunSnapshot {
    return { status: this.status, steps: [...this.steps.values()], result: this.result, error: this.error };
  }

  private put(state: StepState): void {
    this.steps.set(state.id, state);
    this.context.steps[state.id] = { status: state.status, output: state.output, error: state.error, attempts: state.attempts };
  }

  private record() {
    const { tenantId, workflowId, version } = this.input;
    const info = workflowInfo();
    this.recorded += 1;
    return { runId: info.workflowId, tenantId, workflowId, version, startedAt: info.startTime.toISOString(), endedAt: null, seq: this.recorded, ...this.snapshot() };
  }
}

const now = () => new Date().toISOString();

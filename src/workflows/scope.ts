import type { Step } from '../definitions/schema.js';
import { SequenceFailure } from './errors.js';
import type { ApprovalWaiting, ChildBlock, StepState, StepStatus } from './run-model.js';
import type { RunState } from './run-state.js';

/**
 * One sequence of steps being executed: the top level, a parallel branch or a foreach item.
 * It keeps the state of its steps and builds the context its expressions see. A branch shares its
 * steps with the enclosing scope (ids are unique, and a fan-in step reads them); a foreach item
 * keeps its own, with `item` and `index` in scope.
 */
export class Scope {
  executed = 0;
  /** Output of the last completed step: the sequence's result unless a `succeed` says otherwise. */
  lastOutput: unknown = null;
  private readonly states = new Map<string, StepState>();
  /** The JSON size of each step's output, as counted towards the run's state bound. */
  private readonly sizes = new Map<string, number>();
  private readonly own: Record<string, unknown>;
  private readonly liveChildren = new Map<string, () => ChildBlock[]>();

  constructor(
    readonly run: RunState,
    readonly parent: Scope | undefined,
    private readonly opts: {
      trigger?: unknown;
      run?: Record<string, unknown>;
      inherited?: Record<string, unknown>;
      shared?: boolean;
      vars?: { item: unknown; index: number };
      keySuffix?: string;
      /** An approval's links, `approval` in the expressions of its notify steps. */
      approval?: Omit<ApprovalWaiting, 'type'>;
    },
  ) {
    this.own = { ...opts.inherited };
  }

  /** Appended to idempotency keys and activity ids: `[3]` inside the fourth foreach item. */
  get keySuffix(): string {
    return this.opts.keySuffix ?? this.parent?.keySuffix ?? '';
  }

  /** The run context: `{ trigger, steps: { <id>: { status, output, error, attempts } }, run, item?, index? }`. */
  context(): Record<string, unknown> {
    const root = this.root();
    const vars = this.vars();
    const approval = this.approval();
    return {
      trigger: root.opts.trigger,
      steps: this.visibleSteps(),
      run: root.opts.run,
      ...(vars ? { item: vars.item, index: vars.index } : {}),
      ...(approval ? { approval } : {}),
    };
  }

  begin(step: Step): number {
    this.executed += 1;
    return this.running(step, (this.states.get(step.id)?.executions ?? 0) + 1);
  }

  /** A re-driven step runs again as the same execution (same idempotency key), not as a new one. */
  restart(step: Step): number {
    return this.running(step, this.states.get(step.id)?.executions ?? 1);
  }

  private running(step: Step, executions: number): number {
    this.put({
      id: step.id,
      type: step.type,
      status: 'running',
      attempts: 0,
      executions,
      startedAt: now(),
      endedAt: null,
      output: null,
      error: null,
    });
    return executions;
  }

  setStatus(stepId: string, status: StepStatus): void {
    const state = this.states.get(stepId);
    if (state) this.put({ ...state, status });
  }

  /** Shows what a waiting step waits for (an approval's links) until it ends. */
  setWaiting(stepId: string, waiting: ApprovalWaiting): void {
    const state = this.states.get(stepId);
    if (state) this.put({ ...state, waiting });
  }

  end(
    stepId: string,
    change: Pick<StepState, 'status'> & Partial<Pick<StepState, 'output' | 'error' | 'attempts'>>,
  ): void {
    const found = this.states.get(stepId);
    if (!found) return;
    const { waiting: _shown, ...state } = found;
    const live = this.liveChildren.get(stepId);
    this.liveChildren.delete(stepId);
    if (change.status === 'completed' && this.run.bounded) {
      try {
        this.countOutput(stepId, change.output);
      } catch (err) {
        this.put({
          ...state,
          status: 'failed',
          endedAt: now(),
          error: err instanceof SequenceFailure ? err.error : null,
        });
        throw err;
      }
    }
    this.put({ ...state, ...change, endedAt: now(), ...(live ? { children: live() } : {}) });
    if (change.status === 'completed') this.lastOutput = change.output ?? null;
  }

  private countOutput(stepId: string, output: unknown): void {
    const bytes = output === undefined || output === null ? 0 : (JSON.stringify(output)?.length ?? 0);
    const delta = bytes - (this.sizes.get(stepId) ?? 0);
    this.sizes.set(stepId, bytes);
    this.run.account(delta);
  }

  /** Nested scopes of a running block step, shown under its `children` until it ends. */
  attachChildren(stepId: string, children: () => ChildBlock[]): void {
    this.liveChildren.set(stepId, children);
  }

  snapshot(): StepState[] {
    return [...this.states.values()].map((s) => {
      const live = this.liveChildren.get(s.id);
      return live ? { ...s, children: live() } : s;
    });
  }

  /** The scope as a child block of its block step. */
  asChild(key: string, status: StepStatus): ChildBlock {
    return { key, status, steps: this.snapshot() };
  }

  restore(steps: StepState[], executed: number, lastOutput: unknown): void {
    for (const s of steps) this.put(s);
    this.executed = executed;
    this.lastOutput = lastOutput;
  }

  private put(state: StepState): void {
    this.states.set(state.id, state);
    // While a step runs again (a loop), expressions still see its previous output.
    const previous = this.own[state.id];
    const running = state.status === 'running' || state.status === 'waiting';
    const entry =
      running && isEntry(previous)
        ? { ...previous, status: state.status }
        : { status: state.status, output: state.output, error: state.error, attempts: state.attempts };
    this.publish(state.id, entry);
  }

  /** A branch's steps are visible to the enclosing scope too. */
  private publish(id: string, entry: unknown): void {
    this.own[id] = entry;
    if (this.opts.shared) this.parent?.publish(id, entry);
  }

  private visibleSteps(): Record<string, unknown> {
    return this.parent ? { ...this.parent.visibleSteps(), ...this.own } : { ...this.own };
  }

  private vars(): { item: unknown; index: number } | undefined {
    return this.opts.vars ?? this.parent?.vars();
  }

  private approval(): Omit<ApprovalWaiting, 'type'> | undefined {
    return this.opts.approval ?? this.parent?.approval();
  }

  private root(): Scope {
    return this.parent ? this.parent.root() : this;
  }
}

const now = () => new Date().toISOString();
const isEntry = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

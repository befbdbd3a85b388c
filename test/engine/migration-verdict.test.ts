import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Definition } from '../../src/definitions/schema.js';
import { migrationVerdict, type MigratingRun } from '../../src/workflows/migration.js';
import type { StepState, StepStatus } from '../../src/workflows/run-model.js';

const state = (id: string, type: string, status: StepStatus, children?: StepState['children']): StepState => ({
  id,
  type,
  status,
  attempts: 1,
  executions: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: null,
  output: null,
  error: null,
  ...(children ? { children } : {}),
});
const definition = (steps: unknown[]) => ({ name: 'w', steps }) as Definition;
const transform = (id: string) => ({ id, type: 'transform', config: { expression: '1' } });
const wait = (id: string, name: string) => ({ id, type: 'wait_for_event', config: { name } });

const v1 = definition([transform('a'), wait('approval', 'approved'), transform('b')]);
const run = (steps: StepState[], extra: Partial<MigratingRun> = {}): MigratingRun => ({
  workflowId: 'wf',
  version: 1,
  definition: v1,
  steps,
  ...extra,
});
const offer = (steps: unknown[], version = 2) => ({ workflowId: 'wf', version, definition: definition(steps) });
const waitingRun = run([state('a', 'transform', 'completed'), state('approval', 'wait_for_event', 'waiting')]);

describe('migrationVerdict: whether a run can move to a newer version', () => {
  it('is compatible when every step reached is in the new version alike, whatever comes after', () => {
    assert.deepEqual(
      migrationVerdict(waitingRun, offer([transform('a'), wait('approval', 'approved'), transform('c')])),
      {
        compatible: true,
      },
    );
  });

  it('refuses a version without a step the run started, with another type, or elsewhere', () => {
    assert.deepEqual(migrationVerdict(waitingRun, offer([transform('a'), transform('b')])), {
      compatible: false,
      reason: "step 'approval' has started in this run, but version 2 has no step 'approval'",
    });
    assert.deepEqual(migrationVerdict(waitingRun, offer([transform('a'), transform('approval')])), {
      compatible: false,
      reason: "step 'approval' is a wait_for_event step in this run, but a transform step in version 2",
    });
    const nested = offer([
      transform('a'),
      { id: 'p', type: 'parallel', branches: [[wait('approval', 'approved')], [transform('x')]] },
    ]);
    assert.deepEqual(migrationVerdict(waitingRun, nested), {
      compatible: false,
      reason: "step 'approval' sits at the top level in this run, but in step 'p' in version 2",
    });
  });

  it('refuses a version in which the step the run waits in waits for another event', () => {
    assert.deepEqual(migrationVerdict(waitingRun, offer([transform('a'), wait('approval', 'signed')])), {
      compatible: false,
      reason: "step 'approval' waits for event 'approved' in this run, but for event 'signed' in version 2",
    });
  });

  it('refuses a wait under another key or other events, and a version with another cancelOn or SLA', () => {
    const keyed = offer([
      transform('a'),
      { id: 'approval', type: 'wait_for_event', config: { name: 'approved', key: '{{ trigger.id }}' } },
    ]);
    assert.deepEqual(migrationVerdict(waitingRun, keyed), {
      compatible: false,
      reason:
        "step 'approval' waits for event 'approved' in this run, but for event 'approved' with key \"{{ trigger.id }}\" in version 2",
    });
    const same = [transform('a'), wait('approval', 'approved')];
    const cancelOn = { ...offer(same), definition: { ...definition(same), cancelOn: [{ name: 'stop', key: 'k' }] } };
    assert.deepEqual(migrationVerdict(waitingRun, cancelOn), {
      compatible: false,
      reason: "the run's cancelOn differs from version 2's, and a run keeps the cancelOn it started with",
    });
    const sla = { ...offer(same), definition: { ...definition(same), sla: { maxDuration: '1h', onBreach: 'cancel' } } };
    assert.equal(migrationVerdict(waitingRun, sla as typeof cancelOn).compatible, false);
  });

  it('looks into parallel branches and foreach items, and skips steps that never started', () => {
    const inBranch = run([
      state('p', 'parallel', 'running', [
        { key: '0', status: 'running', steps: [state('x', 'http', 'running')] },
        { key: '1', status: 'completed', steps: [state('y', 'transform', 'skipped')] },
      ]),
    ]);
    assert.deepEqual(migrationVerdict(inBranch, offer([{ id: 'p', type: 'parallel', branches: [[transform('x')]] }])), {
      compatible: false,
      reason: "step 'x' is a http step in this run, but a transform step in version 2",
    });
    const http = { id: 'x', type: 'http', config: { url: 'https://example.com' } };
    assert.deepEqual(migrationVerdict(inBranch, offer([{ id: 'p', type: 'parallel', branches: [[http]] }])), {
      compatible: true,
    });
  });

  it('refuses another workflow, a version not newer, and one older than a move already accepted', () => {
    assert.equal(migrationVerdict(waitingRun, { ...offer([]), workflowId: 'other' }).compatible, false);
    assert.deepEqual(migrationVerdict(run([], { version: 2 }), offer([transform('a')], 2)), {
      compatible: false,
      reason: 'the run is on version 2; version 2 is not newer',
    });
    assert.deepEqual(migrationVerdict(run([], { pendingVersion: 3 }), offer([transform('a')], 2)), {
      compatible: false,
      reason: 'the run already moves to version 3',
    });
    assert.deepEqual(migrationVerdict(run([], { pendingVersion: 3 }), offer([transform('a')], 3)), {
      compatible: true,
    });
  });
});

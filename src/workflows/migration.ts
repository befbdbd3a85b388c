import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Definition, Step } from '../definitions/schema.js';
import type { StepState } from './run-model.js';

/**
 * Moving an open run to a newer version of its workflow (`POST /v1/workflows/{id}/versions/{v}/migrate`).
 * The run is offered the new definition by the `migrate` update; it judges the offer against its
 * own state, answers, and if it accepts, moves at its next top-level step boundary (see
 * `RunState.move`). The update is recorded in the run's history, so a replay moves it again at the
 * same point. Pure and deterministic: the run, its replay and the API's dry run judge alike.
 */
export interface MigrationOffer {
  workflowId: string;
  version: number;
  definition: Definition;
}

export type MigrationVerdict = { compatible: true } | { compatible: false; reason: string };

/** What a run answers when it takes an offer: it moves from `from` to `to` at its next step boundary. */
export interface MigrationAcceptance {
  from: number;
  to: number;
}

/** Offers the run a newer version; refused (the update fails MIGRATION_REFUSED, nothing recorded) when incompatible. */
export const migrateUpdate = defineUpdate<MigrationAcceptance, [MigrationOffer]>('migrate');
/** The same judgement without the offer: the API's dry run. */
export const migrationCheckQuery = defineQuery<MigrationVerdict, [MigrationOffer]>('migrationCheck');

/** The error type of a refused offer, which carries the reason as its message. */
export const MIGRATION_REFUSED = 'MIGRATION_REFUSED';

/** What of a run an offer is judged against. */
export interface MigratingRun {
  workflowId: string;
  version: number;
  definition: Definition;
  /** A move the run already accepted and has not made yet. */
  pendingVersion?: number;
  steps: StepState[];
}

/**
 * Whether a run can move to the offered version. It can when every step it has started or finished
 * exists in the new version with the same id, the same type and in the same place (the top level,
 * or the same enclosing step), each step it waits in waits for the same thing (a `wait_for_event`
 * for the same event names and key), and the new version has the same `cancelOn` and `sla`. A
 * skipped step never started: it is not looked at.
 *
 * @example migrationVerdict(run, { workflowId, version: 2, definition }) // { compatible: false, reason: "…" }
 */
export function migrationVerdict(run: MigratingRun, offer: MigrationOffer): MigrationVerdict {
  const refuse = (reason: string): MigrationVerdict => ({ compatible: false, reason });
  if (offer.workflowId !== run.workflowId) return refuse(`the run belongs to workflow '${run.workflowId}'`);
  if (offer.version <= run.version)
    return refuse(`the run is on version ${run.version}; version ${offer.version} is not newer`);
  if (run.pendingVersion !== undefined && run.pendingVersion > offer.version)
    return refuse(`the run already moves to version ${run.pendingVersion}`);
  const target = placesOf(offer.definition.steps);
  const v = `version ${offer.version}`;
  // A run keeps the cancelOn registrations and the SLA timer it started with: it may only move to a version with the same.
  for (const field of ['cancelOn', 'sla'] as const)
    if (JSON.stringify(run.definition[field] ?? null) !== JSON.stringify(offer.definition[field] ?? null))
      return refuse(`the run's ${field} differs from ${v}'s, and a run keeps the ${field} it started with`);
  for (const { state, parent } of reached(run.steps, null)) {
    const found = target.get(state.id);
    if (!found) return refuse(`step '${state.id}' has started in this run, but ${v} has no step '${state.id}'`);
    if (found.step.type !== state.type)
      return refuse(`step '${state.id}' is a ${state.type} step in this run, but a ${found.step.type} step in ${v}`);
    if (found.parent !== parent)
      return refuse(`step '${state.id}' sits ${place(parent)} in this run, but ${place(found.parent)} in ${v}`);
    if (state.status === 'waiting') {
      const [was, is] = [waitOf(placesOf(run.definition.steps).get(state.id)?.step), waitOf(found.step)];
      if (was !== is) return refuse(`step '${state.id}' waits for ${was} in this run, but for ${is} in ${v}`);
    }
  }
  return { compatible: true };
}

const place = (parent: string | null) => (parent === null ? 'at the top level' : `in step '${parent}'`);

/** What a waiting step waits for, as far as moving the run is concerned. */
function waitOf(step: Step | undefined): string {
  if (step?.type === 'wait_for_event') {
    const { name, anyOf, key } = step.config;
    const events = name !== undefined ? `event '${name}'` : `any of the events ${JSON.stringify(anyOf)}`;
    return key === undefined ? events : `${events} with key ${JSON.stringify(key)}`;
  }
  if (step?.type === 'delay') return 'a timer';
  return `its ${step?.type ?? 'unknown'} step to end`;
}

/** Every step of a definition by id, with the id of the step it sits in (null: the top level). */
function placesOf(
  steps: Step[],
  parent: string | null = null,
  into = new Map<string, { step: Step; parent: string | null }>(),
) {
  for (const step of steps) {
    into.set(step.id, { step, parent });
    // The blocks nested in a step (as `nestedBlocks` in the schema, which workflow code does not import).
    const blocks = step.type === 'parallel' ? step.branches : step.type === 'foreach' ? [step.steps] : [];
    for (const block of blocks) placesOf(block, step.id, into);
  }
  return into;
}

/** Every step the run has started or finished, nested ones included, with the step it sits in. */
function* reached(steps: StepState[], parent: string | null): Generator<{ state: StepState; parent: string | null }> {
  for (const state of steps) {
    if (state.status !== 'skipped') yield { state, parent };
    for (const child of state.children ?? []) yield* reached(child.steps, state.id);
  }
}

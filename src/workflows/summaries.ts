import type { Step } from '../definitions/schema.js';
import type { RunInput, RunSource } from './run-model.js';

/**
 * What the Temporal Web UI shows for a run and its events (user metadata, which no replay
 * checks): the run's workflow and how it started, and on each activity, timer and child the step
 * id the user wrote. Built from the definition and the source only, never from the payload, which
 * may be sensitive and is encrypted when payload encryption is on.
 */

/** One line: `Welcome new user v3 · schedule 5b1c…`. */
export function runSummary(input: Pick<RunInput, 'definition' | 'version' | 'source'>): string {
  return `${input.definition.name} v${input.version} · ${startedBy(input.source)}`;
}

/** A few lines of Markdown: the workflow, the tenant, how the run started, its top-level steps. */
export function runDetails(
  input: Pick<RunInput, 'definition' | 'version' | 'source' | 'workflowId' | 'tenantId'>,
): string {
  const s = input.source;
  const when = s?.scheduledAt ? ` for ${s.scheduledAt}` : '';
  const where = s?.topic ? ` (${s.topic}, partition ${s.partition ?? '?'}, offset ${s.offset ?? '?'})` : '';
  return [
    `**Workflow** ${input.definition.name} \`${input.workflowId}\` version ${input.version}`,
    `**Tenant** ${input.tenantId}`,
    `**Started by** ${startedBy(s)}${when}${where}`,
    `**Steps** ${input.definition.steps.map(outline).join(' → ')}`,
  ].join('\n\n');
}

/**
 * The run's current details while a step is parked (the Web UI's "Current Details", read through
 * the workflow's metadata query: in memory only, so no history holds it and replays are untouched).
 */
export function parkedDetails(p: { stepId: string; errorCode: string; deadLetterId: string; since: string }): string {
  return `**Parked** since ${p.since}: step \`${p.stepId}\` failed for good (${p.errorCode}). Waiting for re-drive (or discard) of dead letter \`${p.deadLetterId}\`.`;
}

/** An activity's, timer's or child's summary: the step id, with its item index inside a foreach (`send[3]`). */
export const stepSummary = (stepId: string, suffix = ''): string => `${stepId}${suffix}`;

/** A child run's summary, shown on the parent's timeline and on the child: `report → Monthly report v2`. */
export const childRunSummary = (stepId: string, suffix: string, child: { name: string; version: number }): string =>
  `${stepSummary(stepId, suffix)} → ${child.name} v${child.version}`;

function startedBy(source: RunSource | undefined): string {
  if (!source) return 'api';
  return source.triggerId ? `${source.type} ${source.triggerId}` : source.type;
}

const outline = (step: Step): string => `${step.id} (${step.type})`;

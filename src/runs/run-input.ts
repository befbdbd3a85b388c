import type { Definition, FailureTarget } from '../definitions/schema.js';
import type { RunLimits } from '../shared/run-limits.js';
import type { RunInput, RunSource } from '../workflows/run-model.js';
import { stampRun } from '../workflows/revisions.js';
import { registry } from '../activities/registry.js';

const connectorDefaults = registry.defaults();

/**
 * The one builder of a top-level run's input, whatever started it (API, webhook, schedule): the
 * revision, limits and connector defaults stamp, the pinned definition snapshot, the payload, how
 * the run started, and the failure workflow it starts if it fails: its definition's, else
 * `tenantOnFailure`, never for a failure workflow's own run.
 */
export function buildRunInput(
  limits: RunLimits,
  run: {
    tenantId: string;
    workflow: { id: string; version: number; definition: Definition };
    payload: unknown;
    source: RunSource;
    tenantOnFailure?: FailureTarget | null;
    /** The run's turn in its tenant's start quota, when its starter reserved it. */
    startTurn?: RunInput['startTurn'];
  },
): RunInput {
  const { tenantId, workflow, payload, source, startTurn } = run;
  const onFailure = source.type === 'failure' ? undefined : (workflow.definition.onFailure ?? run.tenantOnFailure);
  return {
    ...stampRun(limits, connectorDefaults),
    tenantId,
    workflowId: workflow.id,
    version: workflow.version,
    definition: workflow.definition,
    trigger: payload ?? null,
    source,
    ...(onFailure ? { onFailure } : {}),
    ...(startTurn ? { startTurn } : {}),
  };
}

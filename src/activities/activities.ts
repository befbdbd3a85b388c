import type { RunsRepo } from '../db/runs-repo.js';
import type { DeadLettersRepo } from '../db/dead-letters-repo.js';
import type { Metrics } from '../shared/metrics.js';
import type { WorkflowsRepo } from '../db/workflows-repo.js';
import { createDeadLetterActivities } from './dead-letters.js';
import { createDefinitionActivities } from './definitions.js';
import { createHttpActivity } from './http/activity.js';
import type { ConnectorType } from './registry.js';
import { createRunIndexActivities } from './run-index.js';

/** Every activity the worker registers: one per connector step type, the run index, definitions, dead letters. */
export function createActivities(deps: { runs: RunsRepo; workflows: WorkflowsRepo; deadLetters: DeadLettersRepo }, opts: { allowlist: string; metrics?: Metrics }) {
  const { metrics } = opts;
  const http = createHttpActivity(opts);
  const connectorActivities = { http, webhook: http } satisfies Record<ConnectorType, unknown>;
  return {
    ...connectorActivities,
    ...createRunIndexActivities(deps.runs, metrics),
    ...createDefinitionActivities(deps.workflows),
    ...createDeadLetterActivities(deps.deadLetters, metrics),
  };
}

export type ConnectorActivities = Pick<ReturnType<typeof createActivities>, ConnectorType>;
export type { DefinitionActivities } from './definitions.js';
export type { DeadLetterActivities } from './dead-letters.js';

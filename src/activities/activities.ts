import type { Repos } from '../db/repos.js';
import type { Metrics } from '../shared/metrics.js';
import { createDeadLetterActivities } from './dead-letters.js';
import { createDefinitionActivities } from './definitions.js';
import { createExpressionActivities } from './expressions.js';
import { createHttpActivity } from './http/activity.js';
import type { ConnectorType } from './registry.js';
import { createRunIndexActivities } from './run-index.js';

/** Every activity the worker registers: one per connector step type, the run index, definitions, dead letters. */
export function createActivities(deps: Repos, opts: { allowlist: string; metrics?: Metrics; maxOutputBytes?: number }) {
  const { metrics } = opts;
  const http = createHttpActivity({ ...opts, secrets: deps.secrets });
  const connectorActivities = { http, webhook: http } satisfies Record<ConnectorType, unknown>;
  return {
    ...connectorActivities,
    ...createRunIndexActivities(deps.runs, metrics),
    ...createDefinitionActivities(deps.workflows),
    ...createExpressionActivities(),
    ...createDeadLetterActivities(deps.deadLetters, metrics),
  };
}

export type ConnectorActivities = Pick<ReturnType<typeof createActivities>, ConnectorType>;
export type { DefinitionActivities } from './definitions.js';
export type { DeadLetterActivities } from './dead-letters.js';

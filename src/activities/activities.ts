import type { RunsRepo } from '../db/runs-repo.js';
import { createHttpActivity } from './http/activity.js';
import type { ConnectorType } from './registry.js';
import { createRunIndexActivities } from './run-index.js';

/** Every activity the worker registers: one per connector step type, plus the run index. */
export function createActivities(deps: { runs: RunsRepo }) {
  const http = createHttpActivity();
  const connectorActivities = { http, webhook: http } satisfies Record<ConnectorType, unknown>;
  return { ...connectorActivities, ...createRunIndexActivities(deps.runs) };
}

export type ConnectorActivities = Pick<ReturnType<typeof createActivities>, ConnectorType>;

import type { Repos } from '../db/repos.js';
import type { Metrics } from '../shared/metrics.js';
import { createDeadLetterActivities } from './dead-letters.js';
import { createDefinitionActivities } from './definitions.js';
import { createExpressionActivities } from './expressions.js';
import type { ConnectorActivity } from './kit.js';
import { CONNECTOR_TYPES, registry, type ConnectorType } from './registry.js';
import { createRateActivities } from './rate/activities.js';
import { idleRedis, memoryRateStore, redisRateStore, withFallback } from './rate/store.js';
import { createRunIndexActivities } from './run-index.js';
import type { Reserved } from './reserved.js';

export type ConnectorActivities = Record<ConnectorType, ConnectorActivity>;

const isComplete = (activities: Record<string, ConnectorActivity>): activities is ConnectorActivities =>
  CONNECTOR_TYPES.every((t) => typeof activities[t] === 'function');

/**
 * Every activity the worker registers: one per connector step type (named by the type), the run
 * index, definitions, dead letters.
 */
export function createActivities(
  deps: Repos,
  opts: {
    allowlist: string;
    reserved?: Reserved;
    metrics?: Metrics;
    maxOutputBytes?: number;
    redisUrl?: string | undefined;
  },
) {
  const { redisUrl, ...rest } = opts;
  const rates = redisUrl ? withFallback(redisRateStore(idleRedis(redisUrl))) : memoryRateStore();
  const connectorActivities = registry.activities({
    ...rest,
    secrets: deps.secrets,
    connections: deps.connections,
    rates,
  });
  if (!isComplete(connectorActivities)) throw new Error('a connector step type has no activity');
  return {
    ...connectorActivities,
    ...createRateActivities({ store: rates, connections: deps.connections }),
    ...createRunIndexActivities(deps.runs, opts.metrics),
    ...createDefinitionActivities(deps.workflows),
    ...createExpressionActivities(),
    ...createDeadLetterActivities(deps.deadLetters, opts.metrics),
  };
}

export type { DefinitionActivities } from './definitions.js';
export type { RateActivities } from './rate/activities.js';
export type { DeadLetterActivities } from './dead-letters.js';

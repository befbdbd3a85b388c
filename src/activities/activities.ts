import type { Repos } from '../db/repos.js';
import { createDeadLetterActivities } from './dead-letters.js';
import { createDefinitionActivities } from './definitions.js';
import { createExpressionActivities } from './expressions.js';
import { createTopicAccess, type TopicRules } from './kafka/topic-access.js';
import type { ConnectorActivity, ConnectorDeps } from './define-connector.js';
import { CONNECTOR_TYPES, registry, type ConnectorType } from './registry.js';
import { createRateActivities } from './rate/activities.js';
import { idleRedis, memoryRateStore, redisRateStore, withFallback, type RateStore } from './rate/store.js';
import { createRunIndexActivities } from './run-index.js';
import type { Reserved } from './reserved.js';
import type { SecretSource } from './secret-stores/resolver.js';

export type ConnectorActivities = Record<ConnectorType, ConnectorActivity>;

const isComplete = (activities: Record<string, ConnectorActivity>): activities is ConnectorActivities =>
  CONNECTOR_TYPES.every((t) => typeof activities[t] === 'function');

/**
 * Every activity the worker registers: one per connector step type (named by the type), the run
 * index, definitions, dead letters.
 */
export function createActivities(
  deps: Repos,
  opts: Pick<ConnectorDeps, 'allowlist' | 'metrics' | 'maxOutputBytes' | 'code'> & {
    /** Where `$secret('…')` resolves; absent: the sealed store only. */
    secrets?: SecretSource;
    reserved?: Reserved;
    /** The store of step rate limits and slots, shared with the API's step test; absent: made from redisUrl. */
    rates?: RateStore;
    redisUrl?: string | undefined;
    /** The Kafka topic rules from configuration; grants made through the API are read from the database. */
    topicRules?: Omit<TopicRules, 'stored'>;
  },
) {
  const { redisUrl, topicRules, rates = stepRateStore(redisUrl), secrets = deps.secrets, ...rest } = opts;
  const connectorActivities = registry.activities({
    ...rest,
    secrets,
    connections: deps.connections,
    rates,
    ...(topicRules ? { topics: createTopicAccess({ ...topicRules, stored: deps.topicGrants }) } : {}),
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

/** The store of step rate limits and concurrency slots: Redis, shared by every process, else this process's. */
export const stepRateStore = (redisUrl: string | undefined): RateStore =>
  redisUrl ? withFallback(redisRateStore(idleRedis(redisUrl))) : memoryRateStore();

export type { DefinitionActivities } from './definitions.js';
export type { RateActivities } from './rate/activities.js';
export type { DeadLetterActivities } from './dead-letters.js';

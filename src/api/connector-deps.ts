import { createTopicAccess, topicRulesOf, type TopicAccess } from '../activities/kafka/topic-access.js';
import type { ConnectorDeps } from '../activities/define-connector.js';
import type { ApiDeps } from './env.js';

/** What connectors need when the API runs them (connection checks, the step test): as the worker gives them. */
export const apiConnectorDeps = (deps: ApiDeps): ConnectorDeps => ({
  allowlist: deps.config.HTTP_ALLOWLIST,
  reserved: deps.reserved,
  rates: deps.stepRates,
  secrets: deps.secretSource ?? deps.secrets,
  connections: deps.connections,
  maxOutputBytes: deps.config.STEP_OUTPUT_MAX_BYTES,
  code: { maxMs: deps.config.CODE_MAX_MS, maxMemoryMb: deps.config.CODE_MAX_MEMORY_MB },
  metrics: undefined,
  topics: apiTopicAccess(deps),
});

/** The Kafka topics a tenant may use, as the worker checks them: configured rules and stored grants. */
export const apiTopicAccess = (deps: Pick<ApiDeps, 'config' | 'topicGrants'>): TopicAccess =>
  createTopicAccess({ ...topicRulesOf(deps.config), stored: deps.topicGrants });

import { AppError } from '../../shared/errors.js';
import { DLQ_SUFFIX } from '../../definitions/kafka-trigger.js';

/** Where grants made through the API are read (per tenant). */
export interface StoredTopicGrants {
  list(tenantId: string): Promise<string[]>;
}

/** The rules every topic a tenant names (a trigger's, a `kafka` step's) is held to. */
export interface TopicRules {
  /** KAFKA_TENANT_TOPIC_PREFIX: `{tenant}` stands for the tenant's id. */
  prefix: string;
  /** KAFKA_TOPIC_GRANTS as written: `tenant=topic` entries, `*` at the end granting a prefix. */
  configGrants: string;
  /** KAFKA_DLQ_TOPIC, when one topic takes every trigger's dead letters. */
  dlqTopic?: string | undefined;
  stored?: StoredTopicGrants | undefined;
}

/** The rules with no configuration: a tenant's own prefix, nothing granted. */
export const DEFAULT_TOPIC_RULES: TopicRules = { prefix: '{tenant}.', configGrants: '' };

/** The rules as configured (KAFKA_TENANT_TOPIC_PREFIX, KAFKA_TOPIC_GRANTS, KAFKA_DLQ_TOPIC). */
export const topicRulesOf = (config: {
  KAFKA_TENANT_TOPIC_PREFIX: string;
  KAFKA_TOPIC_GRANTS: string;
  KAFKA_DLQ_TOPIC?: string | undefined;
}): TopicRules => ({
  prefix: config.KAFKA_TENANT_TOPIC_PREFIX,
  configGrants: config.KAFKA_TOPIC_GRANTS,
  dlqTopic: config.KAFKA_DLQ_TOPIC,
});

/** Whether the topic holds dead letters: beside a topic, or the one configured for all. */
export const isDeadLetterTopic = (topic: string, dlqTopic?: string): boolean =>
  topic.endsWith(DLQ_SUFFIX) || topic === dlqTopic;

/** Whether a grant (a topic, or a prefix ending in `*`) covers the topic. */
export const grantCovers = (pattern: string, topic: string): boolean =>
  pattern.endsWith('*') ? topic.startsWith(pattern.slice(0, -1)) : topic === pattern;

/** The `tenant=pattern` entries of KAFKA_TOPIC_GRANTS for one tenant. */
export function configGrantsOf(configGrants: string, tenantId: string): string[] {
  return configGrants
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .flatMap((entry) => {
      const at = entry.indexOf('=');
      return at > 0 && entry.slice(0, at).trim() === tenantId ? [entry.slice(at + 1).trim()] : [];
    })
    .filter(Boolean);
}

/** The prefix of the tenant's own topics. */
export const ownPrefix = (prefix: string, tenantId: string): string => prefix.replaceAll('{tenant}', tenantId);

export const topicForbidden = (topic: string, why: string) =>
  new AppError({
    code: 'KAFKA_TOPIC_FORBIDDEN',
    message: `topic '${topic}' is not this tenant's: ${why}`,
    httpStatus: 403,
    details: { topic },
  });

/**
 * The check of a tenant's topic: its own prefix, or a grant (configured or stored); a dead-letter
 * topic never, whatever is granted, since it holds every tenant's failed messages (or, beside a
 * topic, messages a run may not forge).
 * @example await createTopicAccess({ prefix: '{tenant}.', configGrants: '' }).check('acme', 'acme.orders') // passes
 */
export function createTopicAccess(rules: TopicRules) {
  return {
    async check(tenantId: string, topic: string): Promise<void> {
      if (isDeadLetterTopic(topic, rules.dlqTopic)) throw topicForbidden(topic, 'dead-letter topics are never granted');
      const own = ownPrefix(rules.prefix, tenantId);
      if (topic.startsWith(own) && topic.length > own.length) return;
      const grants = [...configGrantsOf(rules.configGrants, tenantId), ...((await rules.stored?.list(tenantId)) ?? [])];
      if (grants.some((g) => grantCovers(g, topic))) return;
      throw topicForbidden(topic, `a tenant uses topics under '${own}' and those granted to it`);
    },
  };
}

export type TopicAccess = ReturnType<typeof createTopicAccess>;

import { createApprovalsRepo } from './approvals-repo.js';
import { createAuditRepo } from './audit-repo.js';
import { createClaimsRepo } from './claims-repo.js';
import { createConnectionsRepo } from './connections-repo.js';
import { createDeadLettersRepo } from './dead-letters-repo.js';
import { createKafkaDeadLettersRepo } from './kafka-dead-letters-repo.js';
import type { Pool } from './pool.js';
import { createRunClosuresRepo } from './run-closures-repo.js';
import { createRunsRepo } from './runs-repo.js';
import { createSecretStoresRepo } from './secret-stores-repo.js';
import { createSecretsRepo } from './secrets-repo.js';
import { createSettingsRepo } from './settings-repo.js';
import { createTopicGrantsRepo } from './topic-grants-repo.js';
import { createTriggersRepo } from './triggers-repo.js';
import { createWebhooksRepo } from './webhooks-repo.js';
import { createWorkflowsRepo } from './workflows-repo.js';
import type { KeyRing } from '../shared/crypto.js';
import type { LatestVersions } from './workflow-changes.js';

/** Every repository over one pool; secrets need the key ring, the API's triggers `latest`. */
export function createRepos(pool: Pool, ring?: KeyRing, latest?: LatestVersions) {
  return {
    claims: createClaimsRepo(pool),
    workflows: createWorkflowsRepo(pool, latest),
    runs: createRunsRepo(pool),
    runClosures: createRunClosuresRepo(pool),
    deadLetters: createDeadLettersRepo(pool),
    secrets: createSecretsRepo(pool, ring),
    secretStores: createSecretStoresRepo(pool),
    webhooks: createWebhooksRepo(pool, ring),
    triggers: createTriggersRepo(pool),
    kafkaDeadLetters: createKafkaDeadLettersRepo(pool),
    connections: createConnectionsRepo(pool),
    topicGrants: createTopicGrantsRepo(pool),
    audit: createAuditRepo(pool),
    settings: createSettingsRepo(pool, latest),
    approvals: createApprovalsRepo(pool),
  };
}

export type Repos = ReturnType<typeof createRepos>;

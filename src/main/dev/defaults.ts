import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What `npm run dev` sets where the environment does not: keys generated once and kept in
 * DATA_DIR (dev tokens and sealed secrets stay valid across restarts) and the allow-list below.
 */
export function devDefaults(dataDir: string, apiPort: number): Record<string, string> {
  return {
    HTTP_ALLOWLIST: devAllowlist(apiPort),
    AUTH_HS256_SECRET: devFile(dataDir, 'dev-auth-secret', 'base64url'),
    SECRETS_KEYS: `dev:${devFile(dataDir, 'dev-secrets-key', 'base64')}`,
    PAYLOAD_KEYS: `dev:${devFile(dataDir, 'dev-payload-key', 'base64')}`,
    TEMPORAL_SDK_METRICS_ADDRESS: '127.0.0.1:9464',
    // The examples' stand-in for an outside service (POST /dev/echo).
    API_DEV_ECHO: 'true',
  };
}

/**
 * The private addresses dev lets http steps reach: the API's own port, which the examples call
 * (`examples/hello.json` pings /healthz), and nothing else on this machine. The API is one of the
 * engine's reserved services, opened only by an entry naming its exact host:port like these;
 * Temporal's ports never open (its gRPC and Web UI APIs have no auth: a step there could read,
 * signal or terminate any tenant's runs).
 * @example devAllowlist(3000) // '127.0.0.1:3000,localhost:3000'
 */
export function devAllowlist(apiPort: number): string {
  return `127.0.0.1:${apiPort},localhost:${apiPort}`;
}

/** 32 random bytes kept in DATA_DIR, created on first use. */
function devFile(dataDir: string, name: string, encoding: 'base64' | 'base64url'): string {
  const file = join(dataDir, name);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString(encoding), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

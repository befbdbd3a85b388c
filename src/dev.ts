import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { rateLimitsFromConfig } from './api/middleware/rate-limit.js';
import { startApi } from './api/server.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { createRepos } from './db/repos.js';
import { watchLatestVersions } from './db/workflow-changes.js';
import { loadConfig } from './shared/config.js';
import { createLogger, type Logger } from './shared/logger.js';
import { keyRings } from './shared/crypto.js';
import { createMetrics } from './shared/metrics.js';
import { mintToken } from './shared/tokens.js';
import { setupTracing } from './shared/tracing.js';
import { connectClient, connectWorker } from './temporal/connection.js';
import { devServerSearchAttributeArgs } from './temporal/search-attributes.js';
import { createWorker, installRuntimeLogger } from './worker/worker.js';

/**
 * `npm run dev`: the whole system on embedded defaults, in one terminal. Starts the Temporal dev
 * server (SQLite file and Web UI), PostgreSQL (embedded unless DATABASE_URL is set), the worker
 * and the API; Ctrl-C stops them all. Definitions and runs survive a restart.
 */
const dataDir = resolve(process.env.DATA_DIR ?? '.data');
await mkdir(dataDir, { recursive: true });
const config = loadConfig({ HTTP_ALLOWLIST: '127.0.0.1,localhost', AUTH_HS256_SECRET: devFile('dev-auth-secret'), SECRETS_KEYS: `dev:${devFile('dev-secrets-key', 'base64')}`, ...process.env });
const logger = createLogger(config.LOG_LEVEL, 'dev');
const devToken = config.AUTH_MODE === 'hs256' && config.AUTH_HS256_SECRET ? await mintToken(config.AUTH_HS256_SECRET, { tenant: 'default', scopes: ['admin'], audience: config.AUTH_AUDIENCE, issuer: config.AUTH_ISSUER }) : undefined;
if (config.AUTH_MODE === 'off') logger.warn('AUTH_MODE=off: authentication is OFF, every caller acts as tenant "default" with every scope');

const temporalServer = await startTemporal(logger);
let embedded: EmbeddedDatabase | undefined;
if (!config.DATABASE_URL) embedded = await startEmbeddedPostgres(join(dataDir, 'postgres'), config.EMBEDDED_POSTGRES_PORT, logger);
const databaseUrl = config.DATABASE_URL ?? embedded?.url ?? '';

const pool = createPool(databaseUrl, logger);
await migrate(pool);
const { ring, payloadRing } = keyRings(config);
const latest = watchLatestVersions(databaseUrl, logger);
const repos = createRepos(pool, ring, latest);
installRuntimeLogger(logger, config.TEMPORAL_SDK_METRICS_ADDRESS ?? '127.0.0.1:9464');
const tracing = setupTracing('mini-zaps', { otlpEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT });
// One process: the API's /metrics shows the worker's metrics too.
const metrics = createMetrics();
const connection = await connectWorker(config);
const worker = await createWorker({ config, connection, repos, metrics, tracing, ring: payloadRing });
// On the worker's connection: the runs the API triggers start eagerly on this worker.
const temporal = await connectClient(config, payloadRing, connection);
const rate = rateLimitsFromConfig(config);
const api = await startApi({ config, pool, temporal, ...repos, ring, logger, metrics, rateLimits: rate.limits });
const workerDone = worker.run();
printBanner(api.url);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('stopping');
  await api.stop();
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await workerDone.catch((err: unknown) => logger.error({ err }, 'worker failed'));
  await Promise.allSettled([connection.close(), latest.close(), pool.end(), rate.close()]);
  if (temporalServer) await stopChild(temporalServer);
  // embedded-postgres also stops its server on signals by itself; do not wait on it for ever.
  await Promise.race([embedded?.stop(), new Promise((r) => setTimeout(r, 5_000))]);
  await tracing?.shutdown();
  process.exit(0);
}

/** 32 random bytes kept in .data/ (dev tokens and sealed secrets stay valid across restarts). */
function devFile(name: string, encoding: 'base64' | 'base64url' = 'base64url'): string {
  const file = join(dataDir, name);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString(encoding), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** Starts `temporal server start-dev` unless a server already answers at TEMPORAL_ADDRESS. */
async function startTemporal(log: Logger): Promise<ChildProcess | undefined> {
  if (await temporalAnswers(1)) {
    log.info({ address: config.TEMPORAL_ADDRESS }, 'using the Temporal server already running');
    return undefined;
  }
  const [host = '127.0.0.1', port = '7233'] = config.TEMPORAL_ADDRESS.split(':');
  const uiPort = new URL(config.TEMPORAL_UI_URL).port || '8233';
  const binary = temporalBinary();
  const args = ['server', 'start-dev', '--ip', host, '--port', port, '--ui-port', uiPort, '--db-filename', join(dataDir, 'temporal.db'), '--namespace', config.TEMPORAL_NAMESPACE, '--log-level', 'warn', ...devServerSearchAttributeArgs()];
  const out = createWriteStream(join(dataDir, 'temporal.log'), { flags: 'a' });
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Whatever way this process ends, the dev server it started ends with it.
  process.once('exit', () => child.kill('SIGTERM'));
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  child.once('exit', (code) => {
    if (!stopping) log.error({ code }, `the Temporal dev server exited; see ${join(dataDir, 'temporal.log')}`);
  });
  if (!(await temporalAnswers(60))) throw new Error(`the Temporal dev server did not start; see ${join(dataDir, 'temporal.log')}`);
  return child;
}

function temporalBinary(): string {
  try {
    const paths: unknown = JSON.parse(readFileSync('.tools/paths.json', 'utf8'));
    if (typeof paths === 'object' && paths !== null && 'temporal' in paths && typeof paths.temporal === 'string') return paths.temporal;
  } catch {
    // not provisioned: fall back to PATH
  }
  return 'temporal';
}

async function temporalAnswers(seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  do {
    try {
      const c = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  } while (Date.now() < deadline);
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

function printBanner(apiUrl: string): void {
  const auth = devToken ? ' -H "authorization: Bearer $TOKEN"' : '';
  const lines = [
    '',
    'Mini-Zaps is running. Ctrl-C stops everything.',
    `  API          ${apiUrl}`,
    `  API docs     ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)`,
    `  Metrics      ${apiUrl}/metrics   (Temporal SDK: http://${config.TEMPORAL_SDK_METRICS_ADDRESS ?? '127.0.0.1:9464'}/metrics)`,
    `  Temporal UI  ${config.TEMPORAL_UI_URL}   (gRPC ${config.TEMPORAL_ADDRESS})`,
    `  PostgreSQL   ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    devToken ? '  Auth         HS256 (tenant "default", scope admin; more: npm run token -- --tenant acme --scopes runs:read)' : '  Auth         *** OFF *** (AUTH_MODE=off): every caller is tenant "default" with every scope',
    '',
    'Create the sample workflow and trigger a run:',
    ...(devToken ? [`  export TOKEN=${devToken}`] : []),
    `  WF=$(curl -s ${apiUrl}/v1/workflows${auth} -H 'content-type: application/json' -d @examples/hello.json | sed 's/.*"id":"\\([^"]*\\)".*/\\1/')`,
    `  curl -s ${apiUrl}/v1/workflows/$WF/runs${auth} -H 'content-type: application/json' -d '{"name":"Ada"}'`,
    `Then: curl -s ${apiUrl}/v1/runs/<runId>${auth}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

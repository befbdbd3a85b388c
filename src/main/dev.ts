import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bootstrap } from '../bootstrap.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.js';
import { devDefaults } from './dev/defaults.js';
import { portsInUse, type WantedPort } from './dev/ports.js';
import { claim, postgresOn, reapOrphans, record, release, runningOwner, startWatchdog } from './dev/processes.js';
import { startTemporalDevServer, stopChild, temporalAnswers } from './dev/temporal.js';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { startKafkaTriggers } from './kafka-triggers.js';
import { mintToken } from '../shared/tokens.js';

/**
 * `npm run dev`: the whole system on embedded defaults, in one terminal. Starts the Temporal dev
 * server (SQLite file and Web UI), PostgreSQL (embedded unless DATABASE_URL is set), the worker
 * and the API; Ctrl-C stops them all. Definitions and runs survive a restart. What it starts is
 * recorded in DATA_DIR/dev.pids.json and stopped even when dev is killed: by a watchdog at once,
 * else at the next start.
 */
const base = loadConfig();
const dataDir = resolve(base.DATA_DIR);
await mkdir(dataDir, { recursive: true });
const config = loadConfig(undefined, devDefaults(dataDir, base.API_PORT));
const logger = createLogger(config.LOG_LEVEL, 'dev');
const devToken =
  config.AUTH_MODE === 'hs256' && config.AUTH_HS256_SECRET
    ? await mintToken(config.AUTH_HS256_SECRET, {
        tenant: 'default',
        scopes: ['admin'],
        audience: config.AUTH_AUDIENCE,
        issuer: config.AUTH_ISSUER,
      })
    : undefined;

const owner = runningOwner(dataDir);
if (owner) fail(`another npm run dev (pid ${owner.pid}) is running on ${dataDir}; stop it, or set DATA_DIR`);
const orphans = await reapOrphans(
  dataDir,
  [postgresOn(join(dataDir, 'postgres'))].filter((c) => c !== undefined),
);
for (const o of orphans) logger.info({ orphanPid: o.pid }, `stopped the ${o.name} a previous npm run dev left running`);
const temporalRunning = await temporalAnswers(config.TEMPORAL_ADDRESS, 1);
const busy = await portsInUse(wantedPorts(temporalRunning));
if (busy) fail(busy);
claim(dataDir);
startWatchdog(dataDir);

// Until everything is up, a failure is one line naming it, not a stack trace (embedded-postgres
// rejects with `undefined` when its server exits).
const failStart = (err: unknown) => fail(`could not start: ${err instanceof Error ? err.message : String(err)}`);
process.once('uncaughtException', failStart);
let stopping = false;
let temporalServer: ChildProcess | undefined;
if (temporalRunning) logger.info({ address: config.TEMPORAL_ADDRESS }, 'using the Temporal server already running');
else temporalServer = await startTemporalDevServer(config, dataDir, logger, () => stopping);
let embedded: EmbeddedDatabase | undefined;
if (!config.DATABASE_URL) embedded = await startPostgres();
const databaseUrl = config.DATABASE_URL ?? embedded?.url ?? '';

// One process: the API's /metrics shows the worker's metrics too.
const app = await bootstrap(
  { ...config, DATABASE_URL: databaseUrl },
  { logger, service: 'mini-zaps', api: 'serve', worker: true },
);
// With KAFKA_BROKERS set, the Kafka trigger service runs here too (in production: npm run triggers).
const kafkaTriggers = config.KAFKA_BROKERS ? await startKafkaTriggers(app, logger) : undefined;
process.off('uncaughtException', failStart);
printBanner(app.url ?? '');

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('stopping');
  await kafkaTriggers?.stop();
  await app.stop();
  if (temporalServer) await stopChild(temporalServer);
  // embedded-postgres also stops its server on signals by itself; do not wait on it for ever.
  await Promise.race([embedded?.stop(), new Promise((r) => setTimeout(r, 5_000))]);
  await reapOrphans(dataDir, [], 5_000);
  release(dataDir);
  process.exit(0);
}

/** One line on stderr and exit 1; the exit handlers and the watchdog stop what was started. */
function fail(line: string): never {
  process.stderr.write(`npm run dev: ${line}\n`);
  process.exit(1);
}

async function startPostgres(): Promise<EmbeddedDatabase> {
  const dir = join(dataDir, 'postgres');
  const db = await startEmbeddedPostgres(dir, config.EMBEDDED_POSTGRES_PORT, logger).catch((err: unknown) => {
    throw new Error(
      `the embedded PostgreSQL exited while starting${err ? ` (${String(err)})` : ''}; LOG_LEVEL=debug shows its output`,
    );
  });
  const server = postgresOn(dir);
  if (server) record(dataDir, server.name, server.pid, { signal: server.signal });
  return db;
}

/** The ports dev is about to listen on (Temporal's only if it starts the dev server itself). */
function wantedPorts(temporalRunning: boolean): WantedPort[] {
  const [host = '127.0.0.1', port = '7233'] = config.TEMPORAL_ADDRESS.split(':');
  const sdkMetrics = config.TEMPORAL_SDK_METRICS_ADDRESS?.split(':');
  return [
    ...(temporalRunning
      ? []
      : [
          { host, port: Number(port), what: 'the Temporal dev server (TEMPORAL_ADDRESS)' },
          {
            host,
            port: Number(new URL(config.TEMPORAL_UI_URL).port || 8233),
            what: 'the Temporal Web UI (TEMPORAL_UI_URL)',
          },
        ]),
    ...(config.DATABASE_URL
      ? []
      : [
          {
            host: '127.0.0.1',
            port: config.EMBEDDED_POSTGRES_PORT,
            what: 'the embedded PostgreSQL (EMBEDDED_POSTGRES_PORT)',
          },
        ]),
    { host: config.API_HOST, port: config.API_PORT, what: 'the API (API_PORT)' },
    ...(sdkMetrics?.[0] && sdkMetrics[1]
      ? [
          {
            host: sdkMetrics[0],
            port: Number(sdkMetrics[1]),
            what: 'Temporal SDK metrics (TEMPORAL_SDK_METRICS_ADDRESS)',
          },
        ]
      : []),
  ];
}

function printBanner(apiUrl: string): void {
  const auth = devToken ? ' -H "authorization: Bearer $TOKEN"' : '';
  const lines = [
    '',
    'Mini-Zaps is running. Ctrl-C stops everything.',
    `  API          ${apiUrl}`,
    `  Console      ${apiUrl}/ui${devToken ? '   (paste the token below)' : ''}`,
    `  API docs     ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)`,
    `  Metrics      ${apiUrl}/metrics   (Temporal SDK: http://${config.TEMPORAL_SDK_METRICS_ADDRESS}/metrics)`,
    `  Temporal UI  ${config.TEMPORAL_UI_URL}   (gRPC ${config.TEMPORAL_ADDRESS})`,
    `  PostgreSQL   ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    devToken
      ? '  Auth         HS256 (tenant "default", scope admin; more: npm run token -- --tenant acme --scopes runs:read)'
      : '  Auth         *** OFF *** (AUTH_MODE=off): every caller is tenant "default" with every scope',
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

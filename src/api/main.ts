import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { createRepos } from '../db/repos.js';
import { watchLatestVersions } from '../db/workflow-changes.js';
import { assertAuthConfig, loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { keyRings } from '../shared/crypto.js';
import { createMetrics } from '../shared/metrics.js';
import { setupTracing } from '../shared/tracing.js';
import { connectClient, connectWorker, createCodecs } from '../temporal/connection.js';
import { createWorker, installRuntimeLogger } from '../worker/worker.js';
import { rateLimitsFromConfig } from './middleware/rate-limit.js';
import { startApi } from './server.js';

/** The API process (with API_WORKER=true, a worker too): needs DATABASE_URL and a reachable Temporal. */
const config = loadConfig();
assertAuthConfig(config);
const { ring, payloadRing } = keyRings(config);
const logger = createLogger(config.LOG_LEVEL, 'api');
if (!config.DATABASE_URL) {
  logger.fatal('DATABASE_URL is required by a standalone API (npm run dev starts an embedded one)');
  process.exit(1);
}
if (config.API_WORKER) installRuntimeLogger(logger, config.TEMPORAL_SDK_METRICS_ADDRESS);
const tracing = setupTracing('mini-zaps-api', { otlpEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT });
if (config.AUTH_MODE === 'off') logger.warn('AUTH_MODE=off: authentication is OFF, every caller acts as tenant "default" with every scope');
const pool = createPool(config.DATABASE_URL, logger);
await migrate(pool);
const metrics = createMetrics();
const connection = config.API_WORKER ? await connectWorker(config) : undefined;
const latest = watchLatestVersions(config.DATABASE_URL, logger);
const repos = createRepos(pool, ring, latest);
const codecs = createCodecs(config, repos.claims, payloadRing);
const worker = connection ? await createWorker({ config, connection, repos, metrics, tracing, codecs }) : undefined;
const temporal = await connectClient(config, codecs, connection);
const rate = rateLimitsFromConfig(config);
await rate.ready;
const api = await startApi({ rateLimits: rate.limits, config, pool, temporal, ...repos, ring, payloadRing, logger, metrics });
const workerDone = worker?.run();
if (worker) logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void api.stop().then(async () => {
      // The SDK stops the worker on the same signal: polling stops, in-flight tasks finish.
      await workerDone;
      await temporal.connection.close();
      await latest.close();
      await pool.end();
      await rate.close();
      await tracing?.shutdown();
      process.exit(0);
    });
  });
}

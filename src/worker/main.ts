import { createPool } from '../db/pool.js';
import { createRepos } from '../db/repos.js';
import { loadConfig } from '../shared/config.js';
import { createServer } from 'node:http';
import { createLogger } from '../shared/logger.js';
import { keyRings } from '../shared/crypto.js';
import { createMetrics } from '../shared/metrics.js';
import { setupTracing } from '../shared/tracing.js';
import { connectWorker, createCodecs } from '../temporal/connection.js';
import { createWorker, installRuntimeLogger } from './worker.js';

/** The worker process: needs DATABASE_URL (for the run index) and a reachable Temporal. */
const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL, 'worker');
if (!config.DATABASE_URL) {
  logger.fatal('DATABASE_URL is required by a standalone worker (npm run dev starts an embedded one)');
  process.exit(1);
}
installRuntimeLogger(logger, config.TEMPORAL_SDK_METRICS_ADDRESS);
const tracing = setupTracing('mini-zaps-worker', { otlpEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT });
const metrics = createMetrics();
// The worker's own /metrics: runs, steps, attempts, failures, dead letters.
const metricsServer = config.WORKER_METRICS_PORT
  ? createServer((_req, res) => {
      void metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
    }).listen(config.WORKER_METRICS_PORT, '127.0.0.1')
  : undefined;
metricsServer?.on('error', (err) => logger.warn({ err }, 'worker metrics endpoint unavailable'));
const pool = createPool(config.DATABASE_URL, logger);
const connection = await connectWorker(config);
const { ring, payloadRing } = keyRings(config);
const repos = createRepos(pool, ring);
const worker = await createWorker({ config, connection, repos, metrics, tracing, codecs: createCodecs(config, repos.claims, payloadRing), logger });
logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
// The SDK shuts down gracefully on SIGINT/SIGTERM: polling stops, in-flight tasks finish.
await worker.run();
await connection.close();
await pool.end();
metricsServer?.close();
await tracing?.shutdown();
logger.info('worker stopped');

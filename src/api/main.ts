import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { createRepos } from '../db/repos.js';
import { watchLatestVersions } from '../db/workflow-changes.js';
import { assertAuthConfig, loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { keyRings } from '../shared/crypto.js';
import { createMetrics } from '../shared/metrics.js';
import { setupTracing } from '../shared/tracing.js';
import { connectClient } from '../temporal/connection.js';
import { rateLimitsFromConfig } from './middleware/rate-limit.js';
import { startApi } from './server.js';

/** The API process: needs DATABASE_URL and a reachable Temporal. */
const config = loadConfig();
assertAuthConfig(config);
const { ring, payloadRing } = keyRings(config);
const logger = createLogger(config.LOG_LEVEL, 'api');
if (!config.DATABASE_URL) {
  logger.fatal('DATABASE_URL is required by a standalone API (npm run dev starts an embedded one)');
  process.exit(1);
}
const tracing = setupTracing('mini-zaps-api', { otlpEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT });
if (config.AUTH_MODE === 'off') logger.warn('AUTH_MODE=off: authentication is OFF, every caller acts as tenant "default" with every scope');
const pool = createPool(config.DATABASE_URL, logger);
await migrate(pool);
const temporal = await connectClient(config, payloadRing);
const rate = rateLimitsFromConfig(config);
const latest = watchLatestVersions(config.DATABASE_URL, logger);
const api = await startApi({ rateLimits: rate.limits, config, pool, temporal, ...createRepos(pool, ring, latest), ring, logger, metrics: createMetrics() });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void api.stop().then(async () => {
      await temporal.connection.close();
      await latest.close();
      await pool.end();
      await rate.close();
      await tracing?.shutdown();
      process.exit(0);
    });
  });
}

import { bootstrap } from '../bootstrap.js';
import { assertAuthConfig, loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';

/** The API process (with API_WORKER=true, a worker too): needs DATABASE_URL and a reachable Temporal. */
const config = loadConfig();
assertAuthConfig(config);
const logger = createLogger(config.LOG_LEVEL, 'api');
if (!config.DATABASE_URL) {
  logger.fatal('DATABASE_URL is required by a standalone API (npm run dev starts an embedded one)');
  process.exit(1);
}
const app = await bootstrap(config, { logger, service: 'mini-zaps-api', api: 'serve', worker: config.API_WORKER });
// The SDK stops the worker on the same signals: polling stops, in-flight tasks finish.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void app.stop().then(() => process.exit(0)));

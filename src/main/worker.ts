import { bootstrap } from '../bootstrap.js';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';

/** The worker process: needs DATABASE_URL (for the run index) and a reachable Temporal. */
const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL, 'worker');
if (!config.DATABASE_URL) {
  logger.fatal('DATABASE_URL is required by a standalone worker (npm run dev starts an embedded one)');
  process.exit(1);
}
const app = await bootstrap(config, { logger, service: 'mini-zaps-worker', worker: true });
// The SDK shuts down gracefully on SIGINT/SIGTERM: polling stops, in-flight tasks finish.
await app.workerDone;
await app.stop();
logger.info('worker stopped');

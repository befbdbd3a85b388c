import { createPool } from '../db/pool.js';
import { createRepos } from '../db/repos.js';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { connectWorker } from '../temporal/connection.js';
import { createWorker, installRuntimeLogger } from './worker.js';

/** The worker process: needs DATABASE_URL (for the run index) and a reachable Temporal. */
const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL, 'worker');
if (!config.DATABASE_URL) {
  logger.fatal('DATABASE_URL is required by a standalone worker (npm run dev starts an embedded one)');
  process.exit(1);
}
installRuntimeLogger(logger);
const pool = createPool(config.DATABASE_URL, logger);
const connection = await connectWorker(config);
const worker = await createWorker({ config, connection, repos: createRepos(pool) });
logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
// The SDK shuts down gracefully on SIGINT/SIGTERM: polling stops, in-flight tasks finish.
await worker.run();
await connection.close();
await pool.end();
logger.info('worker stopped');

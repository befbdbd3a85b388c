import type { Client } from '@temporalio/client';
import type { RunsRepo } from '../db/runs-repo.js';
import type { WorkflowsRepo } from '../db/workflows-repo.js';
import type { Pool } from '../db/pool.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';

/** What the API needs from the outside world; tests build it with real PostgreSQL and Temporal. */
export interface ApiDeps {
  config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE' | 'TEMPORAL_UI_URL' | 'API_BODY_LIMIT_BYTES'>;
  pool: Pool;
  temporal: Client;
  workflows: WorkflowsRepo;
  runs: RunsRepo;
  logger: Logger;
}

/** Per-request values set by middleware. */
export interface ApiEnv {
  Variables: {
    tenantId: string;
    requestId: string;
    logger: Logger;
  };
}

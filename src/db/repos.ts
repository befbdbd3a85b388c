import { createDeadLettersRepo } from './dead-letters-repo.js';
import type { Pool } from './pool.js';
import { createRunsRepo } from './runs-repo.js';
import { createWorkflowsRepo } from './workflows-repo.js';

/** Every repository over one pool. */
export function createRepos(pool: Pool) {
  return { workflows: createWorkflowsRepo(pool), runs: createRunsRepo(pool), deadLetters: createDeadLettersRepo(pool) };
}

export type Repos = ReturnType<typeof createRepos>;

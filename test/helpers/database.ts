import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createLogger } from '../../src/shared/logger.js';
import { freePort } from './ports.js';

/**
 * A migrated embedded PostgreSQL for the tests of one file, started (and `seed`ed) before them and
 * removed after: `db.pool` once they run.
 */
export function useMigratedDatabase(name: string, seed?: (pool: Pool) => Promise<void>): { readonly pool: Pool } {
  const logger = createLogger('silent', 'test');
  let dir = '';
  let db: EmbeddedDatabase | undefined;
  let pool: Pool | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `mini-zaps-${name}-`));
    await chmod(dir, 0o755); // PostgreSQL runs as its own user when the tests run as root
    db = await startEmbeddedPostgres(join(dir, 'pg'), await freePort(), logger);
    pool = createPool(db.url, logger);
    await migrate(pool);
    await seed?.(pool);
  });
  after(async () => {
    await pool?.end();
    await db?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get pool() {
      if (!pool) throw new Error('the database starts in before()');
      return pool;
    },
  };
}

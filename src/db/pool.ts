import pg from 'pg';
import type { Logger } from '../shared/logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** The PostgreSQL pool; errors of idle clients (a restarted server) are logged, not thrown. */
export function createPool(connectionString: string, logger: Logger, max = 10): Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000 });
  pool.on('error', (err) => logger.warn({ error: err.message }, 'idle PostgreSQL client failed'));
  return pool;
}

/** True for errors that mean "the database is not reachable now", as opposed to a bad query. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = 'code' in err ? String(err.code) : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03'].includes(code) ||
    code.startsWith('08') ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(err.message)
  );
}

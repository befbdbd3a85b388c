import type pg from 'pg';
import { AppError } from '../../shared/errors.js';
import type { ExecuteContext } from '../connector-attempt.js';
import type { Reserved } from '../reserved.js';
import { createHostGuard } from '../host-guard.js';
import { connect, type PostgresConnection } from './connection.js';
import type { SqlConfig } from './definition.js';
import { sqlError } from './errors.js';

/** The step's output. */
export interface SqlOutput {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/**
 * Runs the query on the step's connection. Read-only queries run in a READ ONLY transaction
 * through a cursor, fetching one row more than `maxRows`, so a huge result is never loaded.
 * @example await createSqlExecute('')(SqlConfigSchema.parse({ query: 'SELECT 1 AS one' }), ctx)
 */
export function createSqlExecute(allowlist: string, reserved?: Reserved) {
  const guard = createHostGuard(allowlist, reserved);
  return async (config: SqlConfig, ctx: ExecuteContext<PostgresConnection>): Promise<SqlOutput> => {
    if (!ctx.connection)
      throw new AppError({ code: 'CONNECTION_REQUIRED', message: 'a sql step names a postgres connection' });
    const client = await connect(ctx.connection, guard, ctx.signal);
    try {
      const output = config.readOnly ? await readOnly(client, config) : await readWrite(client, config);
      checkBytes(output.rows, config.maxBytes);
      return output;
    } catch (err) {
      throw sqlError(err, ctx.signal);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}

async function readOnly(client: pg.Client, config: SqlConfig): Promise<SqlOutput> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(
      statement(`DECLARE zaps_rows NO SCROLL CURSOR FOR ${config.query.trim().replace(/;\s*$/, '')}`, config.params),
    );
    const { rows } = await client.query<Record<string, unknown>>(`FETCH ${config.maxRows + 1} FROM zaps_rows`);
    checkRows(rows.length, config.maxRows);
    return { rows, rowCount: rows.length };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

async function readWrite(client: pg.Client, config: SqlConfig): Promise<SqlOutput> {
  const result = await client.query<Record<string, unknown>>(statement(config.query, config.params));
  checkRows(result.rows.length, config.maxRows);
  return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
}

/**
 * Always the extended protocol, which takes one statement only: without it a query with no
 * parameters could chain statements after the one the step declares.
 */
const statement = (text: string, values: SqlConfig['params']): pg.QueryConfig & { queryMode: 'extended' } => ({
  text,
  values,
  queryMode: 'extended',
});

function checkRows(count: number, max: number): void {
  if (count > max)
    throw new AppError({
      code: 'SQL_TOO_MANY_ROWS',
      message: `the query returned more than maxRows (${max}) rows; add a LIMIT or raise maxRows`,
      httpStatus: 400,
    });
}

function checkBytes(rows: unknown[], max: number): void {
  const bytes = JSON.stringify(rows).length;
  if (bytes > max)
    throw new AppError({
      code: 'SQL_RESULT_TOO_LARGE',
      message: `the rows are ${bytes} bytes as JSON, more than maxBytes (${max})`,
      httpStatus: 400,
    });
}

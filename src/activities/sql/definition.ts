import { z } from 'zod';
import { defineConnector, type ConnectorDeps } from '../define-connector.js';
import { createSqlExecute } from './activity.js';
import { postgresConnection } from './connection.js';

/**
 * Config of the `sql` step; the database is the step's `postgres` connection.
 * @example { "query": "SELECT id, plan FROM accounts WHERE email = $1", "params": ["{{ trigger.email }}"] }
 */
export const SqlConfigSchema = z.strictObject({
  /** One statement; values go in `params` as $1, $2, ..., never into the text. */
  query: z.string().min(1).max(100_000),
  params: z
    .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .max(1000)
    .default([]),
  /** true (default): runs in a READ ONLY transaction, and must be a SELECT or VALUES. */
  readOnly: z.boolean().default(true),
  /** More rows than this fail the step (SQL_TOO_MANY_ROWS); add a LIMIT. */
  maxRows: z.int().min(1).max(100_000).default(1000),
  /** More bytes of rows (as JSON) than this fail the step (SQL_RESULT_TOO_LARGE). */
  maxBytes: z
    .int()
    .min(1)
    .max(8 * 1024 * 1024)
    .default(1024 * 1024),
});
export type SqlConfig = z.output<typeof SqlConfigSchema>;

/** `sql`: one parameterised query on PostgreSQL. */
export const sqlConnector = defineConnector({
  type: 'sql',
  description:
    'Runs one parameterised query on a `postgres` connection. Output `{rows, rowCount}`. Read-only by default (a READ ONLY transaction; SELECT or VALUES); ' +
    '`readOnly: false` allows writes. Rows beyond `maxRows` or `maxBytes` fail the step. Bad credentials (SQL_AUTH_FAILED) and query errors are not retried; a database that is down is.',
  configSchema: SqlConfigSchema,
  defaults: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  },
  example: {
    connection: 'crm_db',
    config: { query: 'SELECT id, plan FROM accounts WHERE email = $1', params: ['{{ trigger.email }}'] },
  },
  connection: { kind: postgresConnection, required: true },
  // A templated query would be string interpolation, so SQL injection: values go in `params`.
  literal: {
    query:
      'the query is never templated (that would let data rewrite it): write $1, $2, ... and put the values, templates allowed, in `params`',
  },
  create: (deps: ConnectorDeps) => createSqlExecute(deps.allowlist, deps.reserved),
});

import pg from 'pg';
import { z } from 'zod';
import { defineConnectionKind, type ConnectionConfig } from '../connection-kind.js';
import { createHostGuard, type HostGuard } from '../host-guard.js';
import { sqlError } from './errors.js';

/**
 * A `postgres` connection.
 * @example { "host": "db.example.com", "port": 5432, "database": "crm", "user": "reader", "password": "$secret('crm_db')", "ssl": true }
 */
export const postgresConnection = defineConnectionKind({
  type: 'postgres',
  description: 'A PostgreSQL database: host, port, database, user, password and TLS.',
  example: {
    host: 'db.example.com',
    port: 5432,
    database: 'crm',
    user: 'reader',
    password: "$secret('crm_db')",
    ssl: true,
  },
  schema: (secret) =>
    z.strictObject({
      host: z.string().min(1).max(255),
      port: z.int().min(1).max(65535).default(5432),
      database: z.string().min(1).max(63),
      user: z.string().min(1).max(63),
      password: secret.optional(),
      ssl: z.boolean().default(false),
    }),
  test: async (config, { signal, deps }) => {
    const client = await connect(config, createHostGuard(deps.allowlist, deps.reserved), signal);
    try {
      const { rows } = await client.query<{ version: string }>('SELECT 1 AS ok, version() AS version');
      return { select1: 'ok', version: rows[0]?.version ?? '' };
    } catch (err) {
      throw sqlError(err, signal);
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});

export type PostgresConnection = ConnectionConfig<typeof postgresConnection>;

/** A connected client (by the address the SSRF guard checked); aborting the signal ends it. */
export async function connect(c: PostgresConnection, guard: HostGuard, signal: AbortSignal): Promise<pg.Client> {
  const host = await guard.resolve(c.host, c.port, 'SQL');
  const client = new pg.Client({
    host,
    port: c.port,
    database: c.database,
    user: c.user,
    password: c.password,
    ssl: c.ssl ? { servername: c.host } : false,
    connectionTimeoutMillis: 10_000,
    application_name: 'mini-zaps',
  });
  // An error on an idle client would otherwise be thrown as an uncaught exception.
  client.on('error', () => undefined);
  const stop = () => void client.end().catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  client.once('end', () => signal.removeEventListener('abort', stop));
  try {
    await client.connect();
  } catch (err) {
    throw sqlError(err, signal);
  }
  return client;
}

import type { RateLimit } from '../definitions/schema.js';
import { AppError } from '../shared/errors.js';
import type { Pool } from './pool.js';

/** A stored connection as the API shows it: secret fields are `$secret()` references. */
export interface ConnectionRecord {
  name: string;
  type: string;
  config: Record<string, unknown>;
  rateLimit: RateLimit | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What is stored: the connection's config as sent, and its rate limit if any. */
export interface ConnectionInput {
  name: string;
  type: string;
  config: Record<string, unknown>;
  rateLimit?: RateLimit | undefined;
}

const COLUMNS = 'name, type, config, rate_limit AS "rateLimit", created_at AS "createdAt", updated_at AS "updatedAt"';

export const connectionNotFound = (name: string) =>
  new AppError({ code: 'CONNECTION_NOT_FOUND', message: `connection '${name}' does not exist`, httpStatus: 404 });

/** Connections per tenant; another tenant's name is simply not found. */
export function createConnectionsRepo(pool: Pool) {
  return {
    async create(tenantId: string, c: ConnectionInput): Promise<ConnectionRecord> {
      const { rows } = await pool.query<ConnectionRecord>(
        `INSERT INTO connections (tenant_id, name, type, config, rate_limit) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${COLUMNS}`,
        [tenantId, c.name, c.type, JSON.stringify(c.config), c.rateLimit ? JSON.stringify(c.rateLimit) : null],
      );
      const row = rows[0];
      if (!row)
        throw new AppError({
          code: 'CONNECTION_EXISTS',
          message: `connection '${c.name}' already exists; PUT /v1/connections/${c.name} replaces it`,
          httpStatus: 409,
        });
      return row;
    },

    async replace(tenantId: string, c: ConnectionInput): Promise<{ record: ConnectionRecord; created: boolean }> {
      const { rows } = await pool.query<ConnectionRecord & { created: boolean }>(
        `INSERT INTO connections (tenant_id, name, type, config, rate_limit) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, name) DO UPDATE SET type = EXCLUDED.type, config = EXCLUDED.config, rate_limit = EXCLUDED.rate_limit, updated_at = now()
         RETURNING ${COLUMNS}, (xmax = 0) AS created`,
        [tenantId, c.name, c.type, JSON.stringify(c.config), c.rateLimit ? JSON.stringify(c.rateLimit) : null],
      );
      const row = rows[0];
      if (!row) throw connectionNotFound(c.name);
      const { created, ...record } = row;
      return { record, created };
    },

    async list(tenantId: string): Promise<ConnectionRecord[]> {
      const { rows } = await pool.query<ConnectionRecord>(
        `SELECT ${COLUMNS} FROM connections WHERE tenant_id = $1 ORDER BY name LIMIT 1000`,
        [tenantId],
      );
      return rows;
    },

    async get(tenantId: string, name: string): Promise<ConnectionRecord> {
      const { rows } = await pool.query<ConnectionRecord>(
        `SELECT ${COLUMNS} FROM connections WHERE tenant_id = $1 AND name = $2`,
        [tenantId, name],
      );
      const row = rows[0];
      if (!row) throw connectionNotFound(name);
      return row;
    },

    async remove(tenantId: string, name: string): Promise<void> {
      const { rowCount } = await pool.query('DELETE FROM connections WHERE tenant_id = $1 AND name = $2', [
        tenantId,
        name,
      ]);
      if (!rowCount) throw connectionNotFound(name);
    },
  };
}

export type ConnectionsRepo = ReturnType<typeof createConnectionsRepo>;

import { AppError } from '../shared/errors.js';
import type { Pool } from './pool.js';

/** A tenant's external secret store: its type and config (credentials are `$secret('name')` references). */
export interface SecretStoreRecord {
  name: string;
  type: 'vault' | 'aws';
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'name, type, config, created_at AS "createdAt", updated_at AS "updatedAt"';
const MAX_STORES = 1000;

export const secretStoreNotFound = (name: string) =>
  new AppError({ code: 'SECRET_STORE_NOT_FOUND', message: `secret store '${name}' does not exist`, httpStatus: 404 });

/** Secret stores per tenant; another tenant's store is simply not found. */
export function createSecretStoresRepo(pool: Pool) {
  return {
    async create(tenantId: string, s: Pick<SecretStoreRecord, 'name' | 'type' | 'config'>): Promise<SecretStoreRecord> {
      const { rows } = await pool.query<SecretStoreRecord>(
        `INSERT INTO secret_stores (tenant_id, name, type, config) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${COLUMNS}`,
        [tenantId, s.name, s.type, JSON.stringify(s.config)],
      );
      const row = rows[0];
      if (!row)
        throw new AppError({
          code: 'SECRET_STORE_EXISTS',
          message: `secret store '${s.name}' already exists; PUT /v1/secret-stores/${s.name} replaces it`,
          httpStatus: 409,
        });
      return row;
    },

    async replace(
      tenantId: string,
      s: Pick<SecretStoreRecord, 'name' | 'type' | 'config'>,
    ): Promise<{ record: SecretStoreRecord; created: boolean }> {
      const { rows } = await pool.query<SecretStoreRecord & { created: boolean }>(
        `INSERT INTO secret_stores (tenant_id, name, type, config) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, name) DO UPDATE SET type = EXCLUDED.type, config = EXCLUDED.config, updated_at = now()
         RETURNING ${COLUMNS}, (xmax = 0) AS created`,
        [tenantId, s.name, s.type, JSON.stringify(s.config)],
      );
      const row = rows[0];
      if (!row) throw secretStoreNotFound(s.name);
      const { created, ...record } = row;
      return { record, created };
    },

    async list(tenantId: string): Promise<SecretStoreRecord[]> {
      const { rows } = await pool.query<SecretStoreRecord>(
        `SELECT ${COLUMNS} FROM secret_stores WHERE tenant_id = $1 ORDER BY name LIMIT ${MAX_STORES}`,
        [tenantId],
      );
      return rows;
    },

    /** The store, or undefined: a reference to a missing store is the caller's kind of error. */
    async find(tenantId: string, name: string): Promise<SecretStoreRecord | undefined> {
      const { rows } = await pool.query<SecretStoreRecord>(
        `SELECT ${COLUMNS} FROM secret_stores WHERE tenant_id = $1 AND name = $2`,
        [tenantId, name],
      );
      return rows[0];
    },

    /** Which of these names are not the tenant's stores. */
    async missing(tenantId: string, names: readonly string[]): Promise<string[]> {
      if (names.length === 0) return [];
      const { rows } = await pool.query<{ name: string }>(
        'SELECT name FROM secret_stores WHERE tenant_id = $1 AND name = ANY($2::text[])',
        [tenantId, [...names]],
      );
      const found = new Set(rows.map((r) => r.name));
      return names.filter((n) => !found.has(n));
    },

    async remove(tenantId: string, name: string): Promise<void> {
      const { rowCount } = await pool.query('DELETE FROM secret_stores WHERE tenant_id = $1 AND name = $2', [
        tenantId,
        name,
      ]);
      if (!rowCount) throw secretStoreNotFound(name);
    },
  };
}

export type SecretStoresRepo = ReturnType<typeof createSecretStoresRepo>;

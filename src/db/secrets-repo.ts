import type { KeyRing } from '../shared/crypto.js';
import { AppError, notFound } from '../shared/errors.js';
import type { Pool } from './pool.js';

const disabled = () =>
  new AppError({
    code: 'SECRETS_DISABLED',
    message: 'no SECRETS_KEYS are configured, so secrets cannot be stored or used',
    httpStatus: 503,
  });

/** Write-only secrets per tenant: values go in sealed and come out only inside activities. */
export function createSecretsRepo(pool: Pool, ring: KeyRing | undefined) {
  return {
    async put(tenantId: string, name: string, value: string): Promise<{ created: boolean }> {
      if (!ring) throw disabled();
      const { rows } = await pool.query<{ created: boolean }>(
        `INSERT INTO secrets (tenant_id, name, key_id, sealed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, name) DO UPDATE SET key_id = EXCLUDED.key_id, sealed = EXCLUDED.sealed, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [tenantId, name, ring.currentKeyId, ring.seal(value)],
      );
      return { created: rows[0]?.created ?? false };
    },

    async list(tenantId: string): Promise<{ name: string; keyId: string; createdAt: Date; updatedAt: Date }[]> {
      const { rows } = await pool.query<{ name: string; keyId: string; createdAt: Date; updatedAt: Date }>(
        'SELECT name, key_id AS "keyId", created_at AS "createdAt", updated_at AS "updatedAt" FROM secrets WHERE tenant_id = $1 ORDER BY name',
        [tenantId],
      );
      return rows;
    },

    async remove(tenantId: string, name: string): Promise<void> {
      const { rowCount } = await pool.query('DELETE FROM secrets WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
      if (!rowCount) throw notFound('secret', name);
    },

    /** The plain value, for an activity about to use it. */
    async reveal(tenantId: string, name: string): Promise<string> {
      if (!ring) throw disabled();
      const { rows } = await pool.query<{ sealed: string }>(
        'SELECT sealed FROM secrets WHERE tenant_id = $1 AND name = $2',
        [tenantId, name],
      );
      const sealed = rows[0]?.sealed;
      if (!sealed)
        throw new AppError({ code: 'SECRET_NOT_FOUND', message: `secret '${name}' does not exist`, httpStatus: 404 });
      return ring.open(sealed).toString('utf8');
    },
  };
}

export type SecretsRepo = ReturnType<typeof createSecretsRepo>;

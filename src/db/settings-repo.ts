import type { FailureTarget } from '../definitions/schema.js';
import type { Pool } from './pool.js';
import { ALL_WORKFLOWS, WORKFLOW_CHANGED, type LatestVersions } from './workflow-changes.js';

/** What a tenant set: the failure workflow of runs whose workflow names none (null: none). */
export interface TenantSettings {
  onFailure: FailureTarget | null;
  updatedAt: Date | null;
}

/**
 * Each tenant's settings. A trigger reads the failure default with the workflow it starts (the
 * workflows repo), so a change notifies every process that keeps latest versions in memory.
 */
export function createSettingsRepo(pool: Pool, latest?: LatestVersions) {
  return {
    async get(tenantId: string): Promise<TenantSettings> {
      const { rows } = await pool.query<{ on_failure: FailureTarget | null; updated_at: Date }>(
        'SELECT on_failure, updated_at FROM tenant_settings WHERE tenant_id = $1',
        [tenantId],
      );
      const row = rows[0];
      return { onFailure: row?.on_failure ?? null, updatedAt: row?.updated_at ?? null };
    },

    async put(tenantId: string, settings: { onFailure: FailureTarget | null }): Promise<TenantSettings> {
      const { rows } = await pool
        .query<{ on_failure: FailureTarget | null; updated_at: Date }>(
          `WITH saved AS (
             INSERT INTO tenant_settings (tenant_id, on_failure) VALUES ($1, $2)
             ON CONFLICT (tenant_id) DO UPDATE SET on_failure = EXCLUDED.on_failure, updated_at = now()
             RETURNING on_failure, updated_at)
           SELECT saved.*, pg_notify($3, $4) FROM saved`,
          [
            tenantId,
            settings.onFailure === null ? null : JSON.stringify(settings.onFailure),
            WORKFLOW_CHANGED,
            ALL_WORKFLOWS,
          ],
        )
        .finally(() => latest?.forget(ALL_WORKFLOWS));
      const row = rows[0];
      return { onFailure: row?.on_failure ?? null, updatedAt: row?.updated_at ?? null };
    },
  };
}

export type SettingsRepo = ReturnType<typeof createSettingsRepo>;

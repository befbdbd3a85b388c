import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../shared/errors.js';
import type { ScheduleSettings } from '../triggers/schema.js';
import type { Pool } from './pool.js';

export interface TriggerRow {
  id: string;
  tenantId: string;
  workflowId: string;
  type: 'schedule';
  /** The pinned version; null: the latest version at each firing. */
  version: number | null;
  config: ScheduleSettings;
  paused: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, tenant_id AS "tenantId", workflow_id AS "workflowId", type, version, config, paused, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Triggers (schedules) of workflows, always scoped to one tenant. */
export function createTriggersRepo(pool: Pool) {
  return {
    async create(tenantId: string, workflowId: string, config: ScheduleSettings): Promise<TriggerRow> {
      const { rows } = await pool.query<TriggerRow>(
        `INSERT INTO triggers (tenant_id, id, workflow_id, type, version, config) VALUES ($1, $2, $3, 'schedule', $4, $5) RETURNING ${COLUMNS}`,
        [tenantId, randomUUID(), workflowId, config.version ?? null, config],
      );
      const row = rows[0];
      if (!row) throw new AppError({ code: 'INTERNAL', message: 'the trigger was not stored' });
      return row;
    },

    /** The trigger, or undefined when it does not exist (or is another tenant's). */
    async find(tenantId: string, id: string): Promise<TriggerRow | undefined> {
      const { rows } = await pool.query<TriggerRow>(`SELECT ${COLUMNS} FROM triggers WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0];
    },

    async get(tenantId: string, id: string): Promise<TriggerRow> {
      const row = await this.find(tenantId, id);
      if (!row) throw notFound('trigger', id);
      return row;
    },

    async listForWorkflow(tenantId: string, workflowId: string): Promise<TriggerRow[]> {
      const { rows } = await pool.query<TriggerRow>(`SELECT ${COLUMNS} FROM triggers WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY created_at, id`, [tenantId, workflowId]);
      return rows;
    },

    async update(tenantId: string, id: string, change: { config?: ScheduleSettings; paused?: boolean }): Promise<TriggerRow> {
      const { rows } = await pool.query<TriggerRow>(
        `UPDATE triggers SET config = COALESCE($3, config), version = CASE WHEN $3::jsonb IS NULL THEN version ELSE ($3::jsonb->>'version')::integer END,
           paused = COALESCE($4, paused), updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [tenantId, id, change.config ?? null, change.paused ?? null],
      );
      const row = rows[0];
      if (!row) throw notFound('trigger', id);
      return row;
    },

    async remove(tenantId: string, id: string): Promise<void> {
      await pool.query('DELETE FROM triggers WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    },
  };
}

export type TriggersRepo = ReturnType<typeof createTriggersRepo>;

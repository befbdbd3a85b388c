import type { ApprovalFields } from '../definitions/approval-fields.js';
import type { Pool } from './pool.js';

/** What an approval step records when it mints its links. */
export interface ApprovalRecord {
  id: string;
  tenantId: string;
  runId: string;
  /** The workflow execution that waits for the decision, when not the run itself (a foreach batch). */
  executionId?: string;
  workflowId: string;
  workflowName: string;
  stepId: string;
  message: string;
  fields: ApprovalFields | null;
  expiresAt: string;
}

export interface ApprovalRow extends Omit<ApprovalRecord, 'expiresAt'> {
  expiresAt: Date;
  createdAt: Date;
  decision: 'approved' | 'rejected' | null;
  decidedAt: Date | null;
  closedAt: Date | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", run_id AS "runId", execution_id AS "executionId", workflow_id AS "workflowId",
  workflow_name AS "workflowName", step_id AS "stepId", message, fields, expires_at AS "expiresAt",
  created_at AS "createdAt", decision, decided_at AS "decidedAt", closed_at AS "closedAt"`;

/** Approvals by link: one row per approval step execution (see migration 018). */
export function createApprovalsRepo(pool: Pool) {
  return {
    /** Idempotent: the step's activity may run again. */
    async insert(r: ApprovalRecord): Promise<void> {
      await pool.query(
        `INSERT INTO approvals (id, tenant_id, run_id, workflow_id, workflow_name, step_id, message, fields, expires_at, execution_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
        [
          r.id,
          r.tenantId,
          r.runId,
          r.workflowId,
          r.workflowName,
          r.stepId,
          r.message,
          r.fields === null ? null : JSON.stringify(r.fields),
          r.expiresAt,
          r.executionId ?? null,
        ],
      );
    },

    async get(tenantId: string, id: string): Promise<ApprovalRow | undefined> {
      const { rows } = await pool.query<ApprovalRow>(
        `SELECT ${COLUMNS} FROM approvals WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id],
      );
      return rows[0];
    },

    /** The tenant's approvals still waiting, soonest to expire first. */
    async pending(tenantId: string, limit: number): Promise<ApprovalRow[]> {
      const { rows } = await pool.query<ApprovalRow>(
        `SELECT ${COLUMNS} FROM approvals
          WHERE tenant_id = $1 AND decided_at IS NULL AND closed_at IS NULL AND expires_at > now()
          ORDER BY expires_at, id LIMIT $2`,
        [tenantId, limit],
      );
      return rows;
    },

    /** Records the decision the run took; a second one changes nothing. */
    async decided(id: string, decision: 'approved' | 'rejected', at: string): Promise<void> {
      await pool.query('UPDATE approvals SET decision = $2, decided_at = $3 WHERE id = $1 AND decided_at IS NULL', [
        id,
        decision,
        at,
      ]);
    },

    /** The step ended: with the decision it took (recorded here if the API could not), or none. */
    async close(id: string, decided: { decision: 'approved' | 'rejected'; at: string } | null): Promise<void> {
      await pool.query(
        `UPDATE approvals SET closed_at = COALESCE(closed_at, now()),
           decision = COALESCE(decision, $2), decided_at = COALESCE(decided_at, $3)
         WHERE id = $1`,
        [id, decided?.decision ?? null, decided?.at ?? null],
      );
    },
  };
}

export type ApprovalsRepo = ReturnType<typeof createApprovalsRepo>;

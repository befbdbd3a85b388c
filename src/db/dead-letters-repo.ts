import { AppError, notFound } from '../shared/errors.js';
import { decodeCursor, page } from './cursor.js';
import type { Pool } from './pool.js';

/** What a run writes when it parks a step that failed for good. */
export interface DeadLetterRecord {
  id: string;
  tenantId: string;
  runId: string;
  executionId: string;
  workflowId: string;
  version: number;
  stepId: string;
  stepType: string;
  errorCode: string;
  httpStatus: number | null;
  error: unknown;
  attempts: number;
  input: unknown;
  createdAt: string;
}

export type DeadLetterStatus = 'open' | 'redriven' | 'discarded';

export interface DeadLetterRow extends Omit<DeadLetterRecord, 'createdAt' | 'tenantId'> {
  status: DeadLetterStatus;
  reason: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

export interface DeadLetterFilter {
  workflowId?: string;
  stepId?: string;
  errorCode?: string;
  httpStatus?: number;
  since?: Date;
  status?: DeadLetterStatus;
}

const COLUMNS = `id, run_id AS "runId", execution_id AS "executionId", workflow_id AS "workflowId", version, step_id AS "stepId",
  step_type AS "stepType", error_code AS "errorCode", http_status AS "httpStatus", error, attempts, input, status, reason,
  created_at AS "createdAt", resolved_at AS "resolvedAt"`;

const WHERE = `tenant_id = $1 AND status = $2
  AND ($3::text IS NULL OR workflow_id = $3) AND ($4::text IS NULL OR step_id = $4)
  AND ($5::text IS NULL OR error_code = $5) AND ($6::int IS NULL OR http_status = $6)
  AND ($7::timestamptz IS NULL OR created_at >= $7)`;

const params = (tenantId: string, f: DeadLetterFilter) => [
  tenantId,
  f.status ?? 'open',
  f.workflowId ?? null,
  f.stepId ?? null,
  f.errorCode ?? null,
  f.httpStatus ?? null,
  f.since ?? null,
];

/** Dead letters, always scoped to one tenant. */
export function createDeadLettersRepo(pool: Pool) {
  return {
    async insert(r: DeadLetterRecord): Promise<void> {
      await pool.query(
        `INSERT INTO dead_letters (id, tenant_id, run_id, execution_id, workflow_id, version, step_id, step_type, error_code, http_status, error, attempts, input, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
        [
          r.id,
          r.tenantId,
          r.runId,
          r.executionId,
          r.workflowId,
          r.version,
          r.stepId,
          r.stepType,
          r.errorCode,
          r.httpStatus,
          JSON.stringify(r.error),
          r.attempts,
          JSON.stringify(r.input ?? null),
          r.createdAt,
        ],
      );
    },

    async get(tenantId: string, id: string): Promise<DeadLetterRow> {
      const { rows } = await pool.query<DeadLetterRow>(
        `SELECT ${COLUMNS} FROM dead_letters WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id],
      );
      const row = rows[0];
      if (!row) throw notFound('dead letter', id);
      return row;
    },

    async list(
      tenantId: string,
      filter: DeadLetterFilter,
      opts: { cursor?: string; limit: number },
    ): Promise<{ items: DeadLetterRow[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const { rows } = await pool.query<DeadLetterRow>(
        `SELECT ${COLUMNS} FROM dead_letters WHERE ${WHERE} AND ($8::timestamptz IS NULL OR (created_at, id) < ($8, $9))
          ORDER BY created_at DESC, id DESC LIMIT $10`,
        [...params(tenantId, filter), after?.at ?? null, after?.id ?? '', opts.limit + 1],
      );
      return page(rows, opts.limit, (r) => ({ at: r.createdAt, id: r.id }));
    },

    /** Open dead letters grouped by workflow, step, error code and HTTP status, largest groups first. */
    async groups(tenantId: string, filter: DeadLetterFilter) {
      const { rows } = await pool.query<{
        workflowId: string;
        stepId: string;
        errorCode: string;
        httpStatus: number | null;
        count: string;
        oldest: Date;
        newest: Date;
      }>(
        `SELECT workflow_id AS "workflowId", step_id AS "stepId", error_code AS "errorCode", http_status AS "httpStatus",
                count(*) AS count, min(created_at) AS oldest, max(created_at) AS newest
           FROM dead_letters WHERE ${WHERE}
          GROUP BY workflow_id, step_id, error_code, http_status ORDER BY count(*) DESC, min(created_at) LIMIT 500`,
        params(tenantId, filter),
      );
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    },

    /** Ids of open dead letters matching a filter, oldest first (for a bulk re-drive). */
    async openIds(
      tenantId: string,
      filter: DeadLetterFilter,
      limit: number,
    ): Promise<{ id: string; executionId: string }[]> {
      const { rows } = await pool.query<{ id: string; executionId: string }>(
        `SELECT id, execution_id AS "executionId" FROM dead_letters WHERE ${WHERE} ORDER BY created_at, id LIMIT $8`,
        [...params(tenantId, { ...filter, status: 'open' }), limit],
      );
      return rows;
    },

    /**
     * Marks an open dead letter resolved; false when it was not open any more. A re-driven run shows
     * as running at once (its own next record, which is newer, then takes over).
     */
    async resolve(tenantId: string, id: string, status: 'redriven' | 'discarded', reason?: string): Promise<boolean> {
      const { rows } = await pool.query<{ run_id: string }>(
        `UPDATE dead_letters SET status = $3, reason = $4, resolved_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'open' RETURNING run_id`,
        [tenantId, id, status, reason ?? null],
      );
      const runId = rows[0]?.run_id;
      if (runId && status === 'redriven') {
        await pool.query(
          `UPDATE runs SET status = 'running', error = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'failed'`,
          [tenantId, runId],
        );
      }
      return runId !== undefined;
    },
  };
}

export type DeadLettersRepo = ReturnType<typeof createDeadLettersRepo>;

export const deadLetterResolved = (id: string, status: string) =>
  new AppError({ code: 'DEAD_LETTER_RESOLVED', message: `dead letter '${id}' is already ${status}`, httpStatus: 409 });

import type { RunSnapshot, RunStatus, StepError, StepState } from '../workflows/messages.js';
import { notFound } from '../shared/errors.js';
import { decodeCursor, page } from './cursor.js';
import type { Pool } from './pool.js';

/** What a run writes about itself into the index (see `recordRun`). */
export interface RunRecord extends RunSnapshot {
  runId: string;
  tenantId: string;
  workflowId: string;
  version: number;
  startedAt: string;
  endedAt: string | null;
  /** Increases with every write of one run, so a late write never overwrites a newer one. */
  seq: number;
}

export interface RunRow {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  idempotencyKey: string | null;
  startedAt: Date;
  endedAt: Date | null;
  steps: StepState[] | null;
  result: unknown;
  error: StepError | null;
}

export interface RunFilter {
  workflowId?: string;
  status?: RunStatus;
  since?: Date;
  until?: Date;
}

const COLUMNS = `id, workflow_id AS "workflowId", version, status, idempotency_key AS "idempotencyKey",
  started_at AS "startedAt", ended_at AS "endedAt", steps, result, error`;

/** The run index in PostgreSQL, always scoped to one tenant. */
export function createRunsRepo(pool: Pool) {
  return {
    /**
     * Called by the API once Temporal accepted the run, so the run is listed at once; the run's
     * own records win over it. It need not survive a database crash (the run records itself), so
     * the commit does not wait for the disk: that keeps an fsync off every trigger's latency.
     */
    async insertTriggered(run: { id: string; tenantId: string; workflowId: string; version: number; idempotencyKey?: string; startedAt: Date }): Promise<void> {
      // One round trip: the setting holds until this statement's own transaction commits.
      await pool.query(
        `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
         INSERT INTO runs (id, tenant_id, workflow_id, version, status, idempotency_key, started_at)
         SELECT $1, $2, $3, $4, 'running', $5, $6 FROM async ON CONFLICT (id) DO NOTHING`,
        [run.id, run.tenantId, run.workflowId, run.version, run.idempotencyKey ?? null, run.startedAt],
      );
    },

    /** Upserts what the run says of itself. */
    async record(r: RunRecord): Promise<void> {
      await pool.query(
        `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, steps, result, error, record_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, ended_at = EXCLUDED.ended_at, steps = EXCLUDED.steps,
           result = EXCLUDED.result, error = EXCLUDED.error, record_seq = EXCLUDED.record_seq, updated_at = now()
         WHERE runs.record_seq < EXCLUDED.record_seq`,
        [r.runId, r.tenantId, r.workflowId, r.version, r.status, r.startedAt, r.endedAt, JSON.stringify(r.steps), JSON.stringify(r.result), r.error, r.seq],
      );
    },

    async exists(tenantId: string, id: string): Promise<boolean> {
      const { rowCount } = await pool.query('SELECT 1 FROM runs WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
      return (rowCount ?? 0) > 0;
    },

    async get(tenantId: string, id: string): Promise<RunRow> {
      const { rows } = await pool.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      const row = rows[0];
      if (!row) throw notFound('run', id);
      return row;
    },

    async list(tenantId: string, filter: RunFilter, opts: { cursor?: string; limit: number }): Promise<{ items: RunRow[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const { rows } = await pool.query<RunRow>(
        `SELECT ${COLUMNS} FROM runs
          WHERE tenant_id = $1
            AND ($2::text IS NULL OR workflow_id = $2)
            AND ($3::text IS NULL OR status = $3)
            AND ($4::timestamptz IS NULL OR started_at >= $4)
            AND ($5::timestamptz IS NULL OR started_at < $5)
            AND ($6::timestamptz IS NULL OR (started_at, id) < ($6, $7))
          ORDER BY started_at DESC, id DESC LIMIT $8`,
        [tenantId, filter.workflowId ?? null, filter.status ?? null, filter.since ?? null, filter.until ?? null, after?.at ?? null, after?.id ?? '', opts.limit + 1],
      );
      return page(rows, opts.limit, (r) => ({ at: r.startedAt, id: r.id }));
    },
  };
}

export type RunsRepo = ReturnType<typeof createRunsRepo>;

import type { RunSnapshot, RunSource, RunStatus, StepError, StepState } from '../workflows/messages.js';
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
  /** Increases with every write of one execution, so a late write never overwrites a newer one. */
  seq: number;
  /**
   * The workflow time of the task that wrote the record: records are ordered by (recordAt, seq), so
   * a reset's new execution, whose tasks all run after the reset, wins although it replays the old
   * execution's `seq` values. Absent in records of workers older than this field.
   */
  recordAt?: string;
  /** The Temporal run id of the execution that wrote the record. */
  executionId?: string;
  /** How the run started; absent in records of runs older than sources. */
  source?: RunSource;
}

/** What a run has when its workflow tasks keep failing (see the reconciler). */
export interface RunProblem {
  cause: string;
  since: string;
  attempts: number;
  message?: string;
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
  problem: RunProblem | null;
  /** How the run started; null for runs indexed before sources were recorded. */
  source: RunSource | null;
  /** The run's own final record is in, but Temporal has not been seen closing the run yet. */
  awaitingClose: boolean;
}

export interface RunFilter {
  workflowId?: string;
  status?: RunStatus;
  since?: Date;
  until?: Date;
  problem?: boolean;
  source?: RunSource['type'];
}

/**
 * A run is shown ended only once Temporal closed it: until then, a run whose own final record is in
 * is shown `running` without an end. (A parked run says `failed` without an end: it is not ended.)
 */
const AWAITING_CLOSE = 'closed_at IS NULL AND ended_at IS NOT NULL';
const COLUMNS = `id, workflow_id AS "workflowId", version, CASE WHEN ${AWAITING_CLOSE} THEN 'running' ELSE status END AS status,
  idempotency_key AS "idempotencyKey", started_at AS "startedAt", CASE WHEN ${AWAITING_CLOSE} THEN NULL ELSE ended_at END AS "endedAt",
  steps, result, error, problem, source, ${AWAITING_CLOSE} AS "awaitingClose"`;
/** The shown status is `$3`; written so the status index still serves it. */
const SHOWN_STATUS_IS = `(status = $3 AND NOT (${AWAITING_CLOSE})) OR ($3 = 'running' AND ${AWAITING_CLOSE})`;

/** The run index in PostgreSQL, always scoped to one tenant. */
export function createRunsRepo(pool: Pool) {
  return {
    /**
     * Called by the API once Temporal accepted the run, so the run is listed at once; the run's
     * own records win over it. It need not survive a database crash (the run records itself), so
     * the commit does not wait for the disk: that keeps an fsync off every trigger's latency.
     */
    async insertTriggered(run: {
      id: string;
      tenantId: string;
      workflowId: string;
      version: number;
      idempotencyKey?: string;
      startedAt: Date;
      source?: RunSource;
    }): Promise<void> {
      // One round trip: the setting holds until this statement's own transaction commits.
      await pool.query(
        `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
         INSERT INTO runs (id, tenant_id, workflow_id, version, status, idempotency_key, started_at, source)
         SELECT $1, $2, $3, $4, 'running', $5, $6, $7 FROM async ON CONFLICT (id) DO NOTHING`,
        [
          run.id,
          run.tenantId,
          run.workflowId,
          run.version,
          run.idempotencyKey ?? null,
          run.startedAt,
          run.source ?? null,
        ],
      );
    },

    /**
     * Upserts what the run says of itself, if it is newer than what the index holds. A record of
     * another execution (a reset's) reopens the run; one of the execution Temporal already closed
     * (an activity still finishing after a termination) changes nothing.
     */
    async record(r: RunRecord): Promise<void> {
      const otherExecution = 'runs.temporal_run_id IS DISTINCT FROM EXCLUDED.temporal_run_id';
      await pool.query(
        `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, steps, result, error, record_seq, record_at, temporal_run_id, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, COALESCE($12, '-infinity'::timestamptz), $13, $14)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, ended_at = EXCLUDED.ended_at, steps = EXCLUDED.steps,
           result = EXCLUDED.result, error = EXCLUDED.error, record_seq = EXCLUDED.record_seq, record_at = EXCLUDED.record_at,
           temporal_run_id = EXCLUDED.temporal_run_id, source = COALESCE(runs.source, EXCLUDED.source),
           closed_at = CASE WHEN ${otherExecution} THEN NULL ELSE runs.closed_at END,
           close_status = CASE WHEN ${otherExecution} THEN NULL ELSE runs.close_status END,
           updated_at = now()
         WHERE (runs.record_at, runs.record_seq) < (EXCLUDED.record_at, EXCLUDED.record_seq) AND runs.tenant_id = EXCLUDED.tenant_id
           AND (runs.closed_at IS NULL OR ${otherExecution})`,
        [
          r.runId,
          r.tenantId,
          r.workflowId,
          r.version,
          r.status,
          r.startedAt,
          r.endedAt,
          JSON.stringify(r.steps),
          JSON.stringify(r.result),
          r.error,
          r.seq,
          r.recordAt ?? null,
          r.executionId ?? null,
          r.source ?? null,
        ],
      );
    },

    /** Shows a run terminated through the API at once; the reconciler later confirms the close time. */
    async markTerminated(tenantId: string, id: string, reason: string, at: Date): Promise<void> {
      await pool.query(
        `UPDATE runs SET status = 'terminated', error = $3, ended_at = $4, closed_at = $4, close_status = 'Terminated', problem = NULL, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 AND closed_at IS NULL`,
        [tenantId, id, { code: 'TERMINATED', message: reason }, at],
      );
    },

    async exists(tenantId: string, id: string): Promise<boolean> {
      const { rowCount } = await pool.query('SELECT 1 FROM runs WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
      return (rowCount ?? 0) > 0;
    },

    async get(tenantId: string, id: string): Promise<RunRow> {
      const { rows } = await pool.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND id = $2`, [
        tenantId,
        id,
      ]);
      const row = rows[0];
      if (!row) throw notFound('run', id);
      return row;
    },

    async list(
      tenantId: string,
      filter: RunFilter,
      opts: { cursor?: string; limit: number },
    ): Promise<{ items: RunRow[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const { rows } = await pool.query<RunRow>(
        `SELECT ${COLUMNS} FROM runs
          WHERE tenant_id = $1
            AND ($2::text IS NULL OR workflow_id = $2)
            AND ($3::text IS NULL OR ${SHOWN_STATUS_IS})
            AND ($4::timestamptz IS NULL OR started_at >= $4)
            AND ($5::timestamptz IS NULL OR started_at < $5)
            AND ($6::timestamptz IS NULL OR (started_at, id) < ($6, $7))
            AND ($9::boolean IS NULL OR (problem IS NOT NULL) = $9)
            AND ($10::text IS NULL OR source->>'type' = $10)
          ORDER BY started_at DESC, id DESC LIMIT $8`,
        [
          tenantId,
          filter.workflowId ?? null,
          filter.status ?? null,
          filter.since ?? null,
          filter.until ?? null,
          after?.at ?? null,
          after?.id ?? '',
          opts.limit + 1,
          filter.problem ?? null,
          filter.source ?? null,
        ],
      );
      return page(rows, opts.limit, (r) => ({ at: r.startedAt, id: r.id }));
    },
  };
}

export type RunsRepo = ReturnType<typeof createRunsRepo>;

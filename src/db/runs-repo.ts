import type { RunSnapshot, RunSource, RunStatus, StepError, StepState } from '../workflows/run-model.js';
import { notFound } from '../shared/errors.js';
import { decodeCursor, page } from './cursor.js';
import { batched } from './batched.js';
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
  /** The version the run last moved from (see src/workflows/migration.ts); absent if it never moved. */
  movedFrom?: number;
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
  /**
   * Set while a step of the run failed for good and the run waits, durably, for its dead letter to
   * be re-driven or discarded: the run is `failed` but has not ended.
   */
  parked: RunParked | null;
  /** The version the run last moved from; null if it runs the version it started on. */
  movedFrom: number | null;
}

/** A run as a list shows it: without its state. */
export type RunSummaryRow = Omit<RunRow, 'steps' | 'result' | 'error'>;

/** Since when a run is parked, and on which dead letter. */
export interface RunParked {
  since: string;
  deadLetterId: string;
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
/**
 * A run that has not ended waits on its oldest open dead letter (see `RunRow.parked`); whether the
 * run already shows `failed` (the index may lag its live state) the API judges.
 */
const PARKED = `CASE WHEN runs.ended_at IS NULL THEN (
  SELECT json_build_object('since', to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'deadLetterId', d.id)
    FROM dead_letters d WHERE d.tenant_id = runs.tenant_id AND d.run_id = runs.id AND d.status = 'open'
   ORDER BY d.created_at LIMIT 1) END`;
/** What a list shows of a run: everything but its state (steps, result, error), which may be large. */
const SUMMARY_COLUMNS = `id, workflow_id AS "workflowId", version, CASE WHEN ${AWAITING_CLOSE} THEN 'running' ELSE status END AS status,
  idempotency_key AS "idempotencyKey", started_at AS "startedAt", CASE WHEN ${AWAITING_CLOSE} THEN NULL ELSE ended_at END AS "endedAt",
  problem, source, ${AWAITING_CLOSE} AS "awaitingClose", ${PARKED} AS parked, moved_from AS "movedFrom"`;
const COLUMNS = `${SUMMARY_COLUMNS}, steps, result, error`;
/** The shown status is `$3`; written so the status index still serves it. */
const SHOWN_STATUS_IS = `(status = $3 AND NOT (${AWAITING_CLOSE})) OR ($3 = 'running' AND ${AWAITING_CLOSE})`;

/** What the API knows of a run it started (`insertTriggered`). */
export interface TriggeredRun {
  id: string;
  tenantId: string;
  workflowId: string;
  version: number;
  idempotencyKey?: string;
  startedAt: Date;
  source?: RunSource;
}

/**
 * Of several records of one run, the newest by (recordAt, seq): one statement may write a row only
 * once, and the newest is what writing them in order would leave.
 */
function newestPerRun(records: RunRecord[]): RunRecord[] {
  const order = (r: RunRecord) => [r.recordAt ?? '', r.seq] as const;
  const newest = new Map<string, RunRecord>();
  for (const r of records) {
    const held = newest.get(r.runId);
    const [a, b] = [order(r), held && order(held)];
    if (!b || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1])) newest.set(r.runId, r);
  }
  return [...newest.values()];
}

/** The run index in PostgreSQL, always scoped to one tenant. */
export function createRunsRepo(pool: Pool) {
  // Runs write their rows many at a time: one statement carries the rows of every run that wrote
  // while the previous statement was in flight (see batched.ts).
  const insertTriggered = batched((runs: TriggeredRun[]) =>
    // One round trip: the setting holds until this statement's own transaction commits.
    pool.query(
      `WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
       INSERT INTO runs (id, tenant_id, workflow_id, version, status, idempotency_key, started_at, source)
       SELECT v.id, v.tenant_id, v.workflow_id, v.version, 'running', v.idempotency_key, v.started_at, v.source
         FROM async, jsonb_to_recordset($1::jsonb)
           AS v(id text, tenant_id text, workflow_id text, version integer, idempotency_key text, started_at timestamptz, source jsonb)
       ON CONFLICT (id) DO NOTHING`,
      [
        JSON.stringify(
          runs.map((run) => ({
            id: run.id,
            tenant_id: run.tenantId,
            workflow_id: run.workflowId,
            version: run.version,
            idempotency_key: run.idempotencyKey ?? null,
            started_at: run.startedAt,
            source: run.source ?? null,
          })),
        ),
      ],
    ),
  );
  const otherExecution = 'runs.temporal_run_id IS DISTINCT FROM EXCLUDED.temporal_run_id';
  const record = batched((records: RunRecord[]) =>
    pool.query(
      `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, steps, result, error, record_seq, record_at, temporal_run_id, source, moved_from)
       SELECT v.id, v.tenant_id, v.workflow_id, v.version, v.status, v.started_at, v.ended_at, v.steps, v.result, v.error,
              v.record_seq, COALESCE(v.record_at, '-infinity'::timestamptz), v.temporal_run_id, v.source, v.moved_from
         FROM jsonb_to_recordset($1::jsonb)
           AS v(id text, tenant_id text, workflow_id text, version integer, status text, started_at timestamptz, ended_at timestamptz,
                steps jsonb, result jsonb, error jsonb, record_seq integer, record_at timestamptz, temporal_run_id text, source jsonb,
                moved_from integer)
       ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, moved_from = EXCLUDED.moved_from, status = EXCLUDED.status, ended_at = EXCLUDED.ended_at, steps = EXCLUDED.steps,
         result = EXCLUDED.result, error = EXCLUDED.error, record_seq = EXCLUDED.record_seq, record_at = EXCLUDED.record_at,
         temporal_run_id = EXCLUDED.temporal_run_id, source = COALESCE(runs.source, EXCLUDED.source),
         closed_at = CASE WHEN ${otherExecution} THEN NULL ELSE runs.closed_at END,
         close_status = CASE WHEN ${otherExecution} THEN NULL ELSE runs.close_status END,
         updated_at = now()
       WHERE (runs.record_at, runs.record_seq) < (EXCLUDED.record_at, EXCLUDED.record_seq) AND runs.tenant_id = EXCLUDED.tenant_id
         AND (runs.closed_at IS NULL OR ${otherExecution})`,
      [
        JSON.stringify(
          newestPerRun(records).map((r) => ({
            id: r.runId,
            tenant_id: r.tenantId,
            workflow_id: r.workflowId,
            version: r.version,
            status: r.status,
            started_at: r.startedAt,
            ended_at: r.endedAt,
            steps: r.steps ?? null,
            result: r.result ?? null,
            error: r.error ?? null,
            record_seq: r.seq,
            record_at: r.recordAt ?? null,
            temporal_run_id: r.executionId ?? null,
            source: r.source ?? null,
            moved_from: r.movedFrom ?? null,
          })),
        ),
      ],
    ),
  );
  return {
    /**
     * Called by the API once Temporal accepted the run, so the run is listed at once; the run's
     * own records win over it. It need not survive a database crash (the run records itself), so
     * the commit does not wait for the disk: that keeps an fsync off every trigger's latency.
     */
    async insertTriggered(run: TriggeredRun): Promise<void> {
      await insertTriggered(run);
    },

    /** Writes what a run says of itself, unless the index already holds a newer record of it. */
    async record(r: RunRecord): Promise<void> {
      await record(r);
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

    /** The runs with these ids, of this tenant only (others are simply absent). */
    async getMany(tenantId: string, ids: string[]): Promise<RunRow[]> {
      const { rows } = await pool.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND id = ANY($2)`, [
        tenantId,
        ids,
      ]);
      return rows;
    },

    /**
     * The runs of a workflow that have not ended and run a version below `below` (only `versions`,
     * if given), newest first, a page at a time: what moving runs to version `below` offers it to.
     */
    async listOpenBelow(
      tenantId: string,
      workflowId: string,
      below: number,
      versions: number[] | undefined,
      opts: { cursor?: string; limit: number },
    ): Promise<{ items: RunRow[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const { rows } = await pool.query<RunRow>(
        `SELECT ${COLUMNS} FROM runs
          WHERE tenant_id = $1 AND workflow_id = $2 AND ended_at IS NULL AND version < $3
            AND ($4::integer[] IS NULL OR version = ANY($4))
            AND ($5::timestamptz IS NULL OR (started_at, id) < ($5, $6))
          ORDER BY started_at DESC, id DESC LIMIT $7`,
        [tenantId, workflowId, below, versions ?? null, after?.at ?? null, after?.id ?? '', opts.limit + 1],
      );
      return page(rows, opts.limit, (r) => ({ at: r.startedAt, id: r.id }));
    },

    /** A page of a tenant's runs, newest first: their summaries, never their state (which may be large). */
    async list(
      tenantId: string,
      filter: RunFilter,
      opts: { cursor?: string; limit: number },
    ): Promise<{ items: RunSummaryRow[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const { rows } = await pool.query<RunSummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM runs
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

import type { RunSnapshot, StepError } from '../workflows/run-model.js';
import type { Pool } from './pool.js';
import type { RunProblem } from './runs-repo.js';

/** Temporal's close status of an execution, as its visibility names it. */
export type CloseStatus = 'Completed' | 'Failed' | 'Terminated' | 'TimedOut' | 'Canceled';

/** One execution Temporal closed, as the reconciler (or the API's own check) saw it. */
export interface RunClosure {
  id: string;
  /** The Temporal run id of the closed execution. */
  executionId: string;
  /** The tenant from the execution's search attribute, when it has one. */
  tenantId?: string;
  closeStatus: CloseStatus;
  closedAt: Date;
  /** Why the run ended, when Temporal alone knows (a termination's reason, a timeout). */
  error?: StepError;
  /**
   * The run's final state, asked of the closed execution (the run's latest), for a run whose own
   * final record never reached the index: it is written as that record would have been.
   */
  final?: RunSnapshot;
  /**
   * The run as its search attributes tell it, so that a run the index has no row of (the API's row
   * and the run's own records all lost, as while the database was down) is listed at its close.
   */
  run?: { workflowId: string; version: number; startedAt: Date };
}

/** A run whose workflow tasks keep failing. */
export interface RunWithProblem {
  id: string;
  tenantId?: string;
  problem: RunProblem;
}

/** Temporal's close status as a run status; Completed and Failed keep the run's own final word. */
const STATUS_SQL = `CASE v.close_status
    WHEN 'Terminated' THEN 'terminated' WHEN 'TimedOut' THEN 'timed_out' WHEN 'Canceled' THEN 'cancelled'
    ELSE CASE WHEN r.ended_at IS NOT NULL AND r.status IN ('completed', 'failed', 'timed_out', 'cancelled') THEN r.status
              WHEN v.close_status = 'Completed' THEN 'completed' ELSE 'failed' END END`;

/** The status a run has by Temporal's close alone. */
const CLOSE_STATUS_SQL = `CASE v.close_status WHEN 'Completed' THEN 'completed' WHEN 'Canceled' THEN 'cancelled'
    WHEN 'Terminated' THEN 'terminated' WHEN 'TimedOut' THEN 'timed_out' ELSE 'failed' END`;

/** The closure carries the run's final state and the run never recorded its end: the state stands in for that record. */
const RESTORES = 'v.final IS NOT NULL AND r.ended_at IS NULL';

/** Any constant: the class of the advisory locks reconcilers take turns by. */
const LOCK_CLASS = 7_238_002;

/** Writes of the reconciler: closes, problems and its watermark. Every write is idempotent. */
export function createRunClosuresRepo(pool: Pool) {
  return {
    /**
     * Runs `fn` unless another process runs it for `name` now (undefined then): replicas take
     * turns instead of repeating each other's work. The lock ends with `fn`, or with a lost connection.
     */
    async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // Held across `fn`, the client has no query that would take a server's death as its error: it
      // would come as an 'error' event, which with no listener takes the whole process down.
      const lost = (err: Error) => (broken = err);
      client.on('error', lost);
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok',
          [LOCK_CLASS, name],
        );
        if (!rows[0]?.ok) return undefined;
        return await fn();
      } finally {
        await client
          .query('COMMIT')
          .catch((err: unknown) => (broken ??= err instanceof Error ? err : new Error(String(err))));
        client.off('error', lost);
        client.release(broken);
      }
    },

    /**
     * Marks runs closed as Temporal says. A closure applies only to the execution the index follows
     * (or to a run that has not recorded itself yet), so an old execution's close after a reset is
     * ignored; applying one again changes nothing. A closure with the run's `final` state (of its
     * latest execution, which may follow a continued one the index knows) writes it only where the
     * run never recorded its end; the run is closed with it, so no later record of the execution
     * undoes it (see `record`). Returns how many rows changed.
     */
    async applyClosures(closures: RunClosure[]): Promise<number> {
      if (closures.length === 0) return 0;
      const values = closures.map((c) => ({
        id: c.id,
        execution_id: c.executionId,
        tenant_id: c.tenantId ?? null,
        close_status: c.closeStatus,
        closed_at: c.closedAt.toISOString(),
        error: c.error ?? null,
        final: c.final ?? null,
        workflow_id: c.run?.workflowId ?? null,
        version: c.run?.version ?? null,
        started_at: c.run?.startedAt.toISOString() ?? null,
      }));
      // A run the index has no row of is listed, closed, with its final state if it answered.
      const inserted = await pool.query(
        `INSERT INTO runs (id, tenant_id, workflow_id, version, status, started_at, ended_at, closed_at, close_status,
                           steps, result, error, temporal_run_id)
         SELECT v.id, v.tenant_id, v.workflow_id, v.version, COALESCE(v.final->>'status', ${CLOSE_STATUS_SQL}),
                v.started_at, v.closed_at, v.closed_at, v.close_status, COALESCE(v.final->'steps', '[]'::jsonb),
                v.final->'result', COALESCE(NULLIF(v.final->'error', 'null'), v.error), v.execution_id
           FROM jsonb_to_recordset($1::jsonb) AS v(id text, execution_id text, tenant_id text, close_status text, closed_at timestamptz,
                                                   error jsonb, final jsonb, workflow_id text, version integer, started_at timestamptz)
          WHERE v.tenant_id IS NOT NULL AND v.workflow_id IS NOT NULL AND v.version IS NOT NULL AND v.started_at IS NOT NULL
         ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(values)],
      );
      // SET reads the row as it was, so RESTORES sees whether the run had recorded its end before this close.
      // The closed execution is the one the row follows from now on: a late record of it changes nothing.
      const { rowCount } = await pool.query(
        `UPDATE runs r SET status = CASE WHEN ${RESTORES} THEN v.final->>'status' ELSE ${STATUS_SQL} END,
                steps = CASE WHEN ${RESTORES} THEN v.final->'steps' ELSE r.steps END,
                result = CASE WHEN ${RESTORES} THEN v.final->'result' ELSE r.result END,
                error = CASE WHEN ${RESTORES} THEN NULLIF(v.final->'error', 'null') ELSE COALESCE(v.error, r.error) END,
                ended_at = v.closed_at, closed_at = v.closed_at, close_status = v.close_status, problem = NULL, updated_at = now(),
                temporal_run_id = v.execution_id
           FROM jsonb_to_recordset($1::jsonb) AS v(id text, execution_id text, tenant_id text, close_status text, closed_at timestamptz, error jsonb, final jsonb)
          WHERE r.id = v.id AND (v.tenant_id IS NULL OR r.tenant_id = v.tenant_id)
            AND (r.temporal_run_id IS NULL OR r.temporal_run_id = v.execution_id OR ${RESTORES})
            AND (r.closed_at IS DISTINCT FROM v.closed_at OR r.close_status IS DISTINCT FROM v.close_status)`,
        [JSON.stringify(values)],
      );
      return (inserted.rowCount ?? 0) + (rowCount ?? 0);
    },

    /**
     * Of `closures`, those whose run has not recorded its own end: its final record may have been
     * lost, or its whole row (then only runs whose search attributes say what they are count).
     */
    async withoutEnd(closures: RunClosure[]): Promise<RunClosure[]> {
      if (closures.length === 0) return [];
      const values = closures.map((c) => ({ id: c.id, tenant_id: c.tenantId ?? null, listable: c.run !== undefined }));
      const { rows } = await pool.query<{ id: string }>(
        `SELECT v.id FROM jsonb_to_recordset($1::jsonb) AS v(id text, tenant_id text, listable boolean)
           LEFT JOIN runs r ON r.id = v.id AND (v.tenant_id IS NULL OR r.tenant_id = v.tenant_id)
          WHERE r.ended_at IS NULL AND (r.id IS NOT NULL OR (v.listable AND v.tenant_id IS NOT NULL))`,
        [JSON.stringify(values)],
      );
      const lost = new Set(rows.map((r) => r.id));
      return closures.filter((c) => lost.has(c.id));
    },

    /**
     * Runs that recorded their own end a while ago but whose close Temporal has not confirmed: the
     * closes the watermark passed by, because visibility showed them late (a loaded or restarted
     * server). Newest first, bounded, within a day.
     */
    async unconfirmed(limit: number, settledMs = 30_000): Promise<string[]> {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT id FROM runs WHERE closed_at IS NULL AND ended_at IS NOT NULL
            AND ended_at BETWEEN now() - interval '1 day' AND now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY ended_at DESC LIMIT $2`,
        [settledMs, limit],
      );
      return rows.map((r) => r.id);
    },

    /** Stores the problems of runs still open, and clears them from every run not in `current`. */
    async setProblems(current: RunWithProblem[]): Promise<void> {
      const values = current.map((p) => ({ id: p.id, tenant_id: p.tenantId ?? null, problem: p.problem }));
      await pool.query(
        `WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id text, tenant_id text, problem jsonb)),
              stored AS (UPDATE runs r SET problem = v.problem, updated_at = now() FROM v
                       WHERE r.id = v.id AND (v.tenant_id IS NULL OR r.tenant_id = v.tenant_id) AND r.closed_at IS NULL
                         AND r.problem IS DISTINCT FROM v.problem)
         UPDATE runs SET problem = NULL, updated_at = now() WHERE problem IS NOT NULL AND id NOT IN (SELECT id FROM v)`,
        [JSON.stringify(values)],
      );
    },

    /**
     * The watermark of reconciler `name`; without one, the start of the oldest run still open (or
     * now), so a first start misses no close.
     */
    async watermark(name: string): Promise<Date> {
      const { rows } = await pool.query<{ at: Date }>(
        `SELECT COALESCE((SELECT watermark FROM reconciler_watermarks WHERE name = $1), (SELECT min(started_at) FROM runs WHERE closed_at IS NULL), now()) AS at`,
        [name],
      );
      return rows[0]?.at ?? new Date();
    },

    /** Moves the watermark forward (never back, whichever replica writes last). */
    async advance(name: string, to: Date): Promise<void> {
      await pool.query(
        `INSERT INTO reconciler_watermarks (name, watermark) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET watermark = GREATEST(reconciler_watermarks.watermark, EXCLUDED.watermark), updated_at = now()`,
        [name, to],
      );
    },
  };
}

export type RunClosuresRepo = ReturnType<typeof createRunClosuresRepo>;

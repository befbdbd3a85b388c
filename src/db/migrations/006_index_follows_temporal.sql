-- The run index follows Temporal. A run's own records are ordered by (record_at, record_seq):
-- record_at is the workflow time of the task that wrote the record, so a reset's new execution
-- (whose tasks run after the reset) wins over everything the old one wrote, although it replays
-- the same record_seq values. temporal_run_id is the execution that wrote the record kept.
ALTER TABLE runs
  ADD COLUMN record_at       timestamptz NOT NULL DEFAULT '-infinity',
  ADD COLUMN temporal_run_id text,
  -- Set once Temporal closed the run's current execution (the reconciler, or the API's own check).
  ADD COLUMN closed_at       timestamptz,
  ADD COLUMN close_status    text,
  -- { cause, since, attempts, message? } while the run's workflow tasks keep failing.
  ADD COLUMN problem         jsonb;

-- Runs that ended before this index followed Temporal keep the end they recorded.
UPDATE runs SET closed_at = ended_at WHERE ended_at IS NOT NULL;

CREATE INDEX runs_tenant_problem_started ON runs (tenant_id, started_at DESC, id DESC) WHERE problem IS NOT NULL;

-- Where each reconciler (by name) has read Temporal's closed executions up to.
CREATE TABLE reconciler_watermarks (
  name       text        PRIMARY KEY,
  watermark  timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

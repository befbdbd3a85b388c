-- Triggers that start runs without an API call (schedules). A schedule trigger is a Temporal
-- Schedule with the id `trigger-<id>`; this row is what the API lists and what a firing reads:
-- the workflow, the pinned version (NULL: the latest at each firing) and the trigger's settings.
CREATE TABLE triggers (
  tenant_id   text        NOT NULL,
  id          text        NOT NULL,
  workflow_id text        NOT NULL,
  type        text        NOT NULL,
  version     integer,
  config      jsonb       NOT NULL,
  paused      boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
);
CREATE INDEX triggers_tenant_workflow ON triggers (tenant_id, workflow_id, created_at, id);

-- How a run started: { type: api | webhook | schedule | kafka | rerun | ..., triggerId?, scheduledAt?, ... }.
-- NULL for runs indexed before sources were recorded.
ALTER TABLE runs ADD COLUMN source jsonb;
CREATE INDEX runs_tenant_source_started ON runs (tenant_id, (source->>'type'), started_at DESC, id DESC);

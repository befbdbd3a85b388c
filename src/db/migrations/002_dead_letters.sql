-- A step that failed for good, parked in its run until it is re-driven or discarded.
-- `execution_id` is the Temporal workflow to signal: the run itself, or the foreach batch holding it.
CREATE TABLE dead_letters (
  id           text        PRIMARY KEY,
  tenant_id    text        NOT NULL,
  run_id       text        NOT NULL,
  execution_id text        NOT NULL,
  workflow_id  text        NOT NULL,
  version      integer     NOT NULL,
  step_id      text        NOT NULL,
  step_type    text        NOT NULL,
  error_code   text        NOT NULL,
  http_status  integer,
  error        jsonb       NOT NULL,
  attempts     integer     NOT NULL,
  input        jsonb,
  status       text        NOT NULL DEFAULT 'open',
  reason       text,
  created_at   timestamptz NOT NULL,
  resolved_at  timestamptz
);
CREATE INDEX dead_letters_tenant_created ON dead_letters (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX dead_letters_tenant_workflow ON dead_letters (tenant_id, workflow_id, status, created_at DESC, id DESC);

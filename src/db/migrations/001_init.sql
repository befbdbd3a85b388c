-- Every row belongs to a tenant; every query filters by it.
CREATE TABLE workflows (
  tenant_id      text        NOT NULL,
  id             text        NOT NULL,
  name           text        NOT NULL,
  latest_version integer     NOT NULL,
  archived_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX workflows_tenant_created ON workflows (tenant_id, created_at DESC, id DESC);

-- Versions are immutable: a run is pinned to the version it started with.
CREATE TABLE workflow_versions (
  tenant_id   text        NOT NULL,
  workflow_id text        NOT NULL,
  version     integer     NOT NULL,
  definition  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, workflow_id, version),
  FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
);

-- The run index: written by the API at trigger time and by the run itself as it goes, so listing
-- never scans Temporal. `id` is the Temporal workflow id. `record_seq` orders the run's own
-- writes, so a late retry never overwrites a newer state.
CREATE TABLE runs (
  id              text        PRIMARY KEY,
  tenant_id       text        NOT NULL,
  workflow_id     text        NOT NULL,
  version         integer     NOT NULL,
  status          text        NOT NULL,
  idempotency_key text,
  started_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  steps           jsonb,
  result          jsonb,
  error           jsonb,
  record_seq      integer     NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_tenant_started ON runs (tenant_id, started_at DESC, id DESC);
CREATE INDEX runs_tenant_workflow_started ON runs (tenant_id, workflow_id, started_at DESC, id DESC);
CREATE INDEX runs_tenant_status_started ON runs (tenant_id, status, started_at DESC, id DESC);

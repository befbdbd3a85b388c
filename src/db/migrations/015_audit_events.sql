-- One row per mutating API call (console actions are API calls): who did what to which target, and
-- how it ended. `fields` holds the top-level keys of the request body, never their values.
-- Pruned by age (AUDIT_RETENTION_DAYS) by the workers' retention pass.
CREATE TABLE audit_events (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL,
  tenant_id   text        NOT NULL,
  subject     text        NOT NULL,
  method      text        NOT NULL,
  route       text        NOT NULL,
  target_id   text,
  status      integer     NOT NULL,
  request_id  text        NOT NULL,
  fields      text[]      NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at DESC, id DESC);
CREATE INDEX audit_events_at ON audit_events (at);

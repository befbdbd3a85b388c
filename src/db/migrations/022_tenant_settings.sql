-- A tenant's settings (PUT /v1/settings): the failure workflow its runs start when their workflow
-- names none ({ workflowId, version? }, null: none). A run reads it when it starts (docs/language.md, "Failure workflows").
CREATE TABLE tenant_settings (
  tenant_id  text PRIMARY KEY,
  on_failure jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);

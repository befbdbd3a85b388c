-- Webhook triggers: the token is shown once and stored hashed; an optional signing secret (sealed)
-- makes callers sign bodies with HMAC-SHA256.
CREATE TABLE webhooks (
  id             text        PRIMARY KEY,
  tenant_id      text        NOT NULL,
  workflow_id    text        NOT NULL,
  token_hash     text        NOT NULL UNIQUE,
  signing_sealed text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  revoked_at     timestamptz,
  FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
);
CREATE INDEX webhooks_tenant_workflow ON webhooks (tenant_id, workflow_id);

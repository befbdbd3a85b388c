-- Secrets are write-only: stored sealed with AES-256-GCM (the value names its key for rotation).
CREATE TABLE secrets (
  tenant_id  text        NOT NULL,
  name       text        NOT NULL,
  key_id     text        NOT NULL,
  sealed     text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

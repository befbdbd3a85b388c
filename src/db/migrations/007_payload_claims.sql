-- Claim-check: payloads too large for Temporal history live here, and history holds a reference
-- `<run id>/<sha256>` instead (src/temporal/claim-check.ts). Content-addressed within a run, so a
-- value written twice (a retried task, the same output recorded again) is stored once; a run's
-- claims go with the run.
CREATE TABLE payload_claims (
  run_id     text        NOT NULL,
  sha256     text        NOT NULL,
  data       bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, sha256)
);
CREATE INDEX payload_claims_created ON payload_claims (created_at);

-- Approval steps waiting for a decision by link. The run itself takes only the first decision
-- (see approvalUpdate); a row says which link was used (410 afterwards), shows the page's message
-- and form without asking the run, and lists the pending ones in the console.
CREATE TABLE approvals (
  id            text        PRIMARY KEY,
  tenant_id     text        NOT NULL,
  run_id        text        NOT NULL,
  workflow_id   text        NOT NULL,
  workflow_name text        NOT NULL,
  step_id       text        NOT NULL,
  message       text        NOT NULL,
  fields        jsonb,
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  decision      text        CHECK (decision IN ('approved', 'rejected')),
  decided_at    timestamptz,
  closed_at     timestamptz
);
CREATE INDEX approvals_tenant_pending ON approvals (tenant_id, expires_at) WHERE decided_at IS NULL AND closed_at IS NULL;
CREATE INDEX approvals_closed ON approvals (closed_at) WHERE closed_at IS NOT NULL;

-- How a webhook answers: at once with the run id (202), or with the run's result or a respond
-- step's answer when either comes within the wait.
ALTER TABLE webhooks ADD COLUMN respond text NOT NULL DEFAULT 'immediately' CHECK (respond IN ('immediately', 'onCompletion'));

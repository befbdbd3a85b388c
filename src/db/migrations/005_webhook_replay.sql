-- Signed webhook deliveries seen recently, so a captured request cannot start another run while
-- its signature is still fresh. A row is useless once its signature is stale (older ones are
-- refused anyway), so rows carry their expiry and each new delivery clears a few expired ones.
CREATE TABLE webhook_deliveries (
  hook_id         text        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  signature       text        NOT NULL,
  idempotency_key text        NOT NULL,
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (hook_id, signature)
);
CREATE INDEX webhook_deliveries_expires ON webhook_deliveries (expires_at);

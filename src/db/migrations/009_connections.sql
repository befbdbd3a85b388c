-- Stored connections (server and credentials of a connector), per tenant. Secret fields hold
-- $secret('name') references, never values: the values stay sealed in `secrets`.
CREATE TABLE connections (
  tenant_id  text        NOT NULL,
  name       text        NOT NULL,
  type       text        NOT NULL,
  config     jsonb       NOT NULL,
  -- {key?, perSecond | perMinute}: how fast the steps using the connection may run.
  rate_limit jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

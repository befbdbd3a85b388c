-- External secret stores (HashiCorp Vault, AWS Secrets Manager) per tenant. `config` holds the
-- store's address, prefix and how to sign in; credentials in it are $secret('name') references to
-- the sealed `secrets` table, never values.
CREATE TABLE secret_stores (
  tenant_id  text        NOT NULL,
  name       text        NOT NULL,
  type       text        NOT NULL,
  config     jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

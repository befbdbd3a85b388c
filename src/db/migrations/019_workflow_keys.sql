-- A workflow's key: the stable name `mz apply` files give it, so a file maps to the same workflow
-- whatever its definition is renamed to. At most one live workflow of a tenant holds a key; an
-- archived workflow lets it go, so applying the key again makes a new workflow.
ALTER TABLE workflows ADD COLUMN key text;
CREATE UNIQUE INDEX workflows_tenant_key ON workflows (tenant_id, key) WHERE key IS NOT NULL AND archived_at IS NULL;

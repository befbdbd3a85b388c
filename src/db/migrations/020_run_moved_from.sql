-- A run moved to a newer version of its workflow (POST /v1/workflows/{id}/versions/{v}/migrate)
-- lists under the new version and says which one it left.
ALTER TABLE runs ADD COLUMN moved_from integer;

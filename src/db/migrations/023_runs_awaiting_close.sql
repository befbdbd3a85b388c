-- Runs whose own final record is in but whose close Temporal has not confirmed yet: a handful at any
-- time, whatever the size of the index. The reconciler looks for them on every pass (every 2 s):
-- without this index that read the whole table.
CREATE INDEX runs_awaiting_close ON runs (ended_at) WHERE closed_at IS NULL AND ended_at IS NOT NULL;
-- The runs a list shows `running` (runs-repo.ts, SHOWN_STATUS_IS): those running, and those awaiting
-- their close. In list order, so a page of them, however deep, reads only them; without it a page read
-- every run of the tenant started since its cursor.
CREATE INDEX runs_tenant_shown_running ON runs (tenant_id, started_at DESC, id DESC)
  WHERE status = 'running' OR (closed_at IS NULL AND ended_at IS NOT NULL);

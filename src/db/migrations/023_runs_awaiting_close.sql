-- Runs whose own final record is in but whose close Temporal has not confirmed yet: a handful at any
-- time, whatever the size of the index. The reconciler looks for them on every pass (every 2 s), and
-- a list of `status=running` shows them as running: without this index both read the whole table.
CREATE INDEX runs_awaiting_close ON runs (ended_at) WHERE closed_at IS NULL AND ended_at IS NOT NULL;

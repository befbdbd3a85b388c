-- A run's open dead letter says it is parked (GET /v1/runs answers `parked`): found by run, read for
-- every failed run a page lists, so indexed on the open ones alone.
CREATE INDEX dead_letters_open_run ON dead_letters (tenant_id, run_id, created_at) WHERE status = 'open';

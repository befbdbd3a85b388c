-- Where each Kafka trigger starts: every message at or past its start starts one run (or one dead
-- letter) for it, none before. `kafka_start` maps each partition of the topic to its end offset
-- when the trigger was created, resumed or moved to another topic (`kafka_start_at`); a partition
-- it does not name (added later, or the topic did not exist yet) starts at its beginning.
-- `kafka_start` is NULL while the broker could not be asked: the trigger service then looks up the
-- offsets of `kafka_start_at` (by message timestamp) and stores them here once.
-- Both NULL (triggers stored before starts were recorded): the trigger takes every message the
-- consumer group reads.
ALTER TABLE triggers ADD COLUMN kafka_start_at timestamptz;
ALTER TABLE triggers ADD COLUMN kafka_start jsonb;

-- A Kafka message a trigger could not use (undecodable, too large, its filter or key failed, the
-- start refused), recorded per trigger so its tenant sees it through the API. The message also went
-- to the dead-letter topic; this row is the tenant's view of it. One row per (trigger, message):
-- a message delivered again after a crash finds its row and adds none.
-- `key`, `value` and header values are text when they were UTF-8 without NUL, else base64
-- (`*_encoding`); the value is cut at a bound (`value_bytes` is its size as it came). `whole`: nothing was
-- cut (value, key, every header), so the message can be re-driven from this row.
CREATE TABLE kafka_dead_letters (
  tenant_id       text        NOT NULL,
  id              text        NOT NULL,
  trigger_id      text        NOT NULL,
  topic           text        NOT NULL,
  partition       integer     NOT NULL,
  "offset"        bigint      NOT NULL,
  key             text,
  key_encoding    text        NOT NULL,
  reason          text        NOT NULL,
  error           text        NOT NULL,
  headers         jsonb       NOT NULL,
  value           text,
  value_encoding  text        NOT NULL,
  value_bytes     integer     NOT NULL,
  value_truncated boolean     NOT NULL,
  message_time    timestamptz,
  whole           boolean     NOT NULL,
  status          text        NOT NULL DEFAULT 'open',
  created_at      timestamptz NOT NULL DEFAULT now(),
  resolved_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, trigger_id, topic, partition, "offset"),
  FOREIGN KEY (tenant_id, trigger_id) REFERENCES triggers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX kafka_dead_letters_trigger ON kafka_dead_letters (tenant_id, trigger_id, status, created_at DESC, id DESC);

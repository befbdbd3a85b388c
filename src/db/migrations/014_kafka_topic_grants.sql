-- Kafka topics an operator granted to a tenant beyond its own prefix (KAFKA_TENANT_TOPIC_PREFIX).
-- `pattern` is a topic name, or a prefix when it ends in `*`. Dead-letter topics are refused
-- whatever is granted, so none is stored.
CREATE TABLE kafka_topic_grants (
  tenant_id  text        NOT NULL,
  pattern    text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, pattern)
);

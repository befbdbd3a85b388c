import { Counter, Gauge, type Registry } from 'prom-client';

/** The trigger service's metrics, on the process's registry (served at TRIGGERS_METRICS_PORT). */
export function createKafkaMetrics(registry: Registry) {
  const registers = [registry];
  return {
    messagesIn: new Counter({
      name: 'minizaps_kafka_messages_total',
      help: 'Kafka messages consumed, by topic',
      labelNames: ['topic'],
      registers,
    }),
    runsStarted: new Counter({
      name: 'minizaps_kafka_runs_started_total',
      help: 'Runs started from Kafka messages, by trigger (replayed: the run already existed)',
      labelNames: ['trigger_id', 'result'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'minizaps_kafka_dead_letters_total',
      help: 'Messages sent to a dead-letter topic, by source topic and reason',
      labelNames: ['topic', 'reason'],
      registers,
    }),
    lag: new Gauge({
      name: 'minizaps_kafka_consumer_lag',
      help: 'Messages behind the end of each partition after the last commit',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    paused: new Gauge({
      name: 'minizaps_kafka_partitions_paused',
      help: 'Partitions paused while Temporal (or the dead-letter topic) cannot be reached',
      registers,
    }),
  };
}

export type KafkaMetrics = ReturnType<typeof createKafkaMetrics>;

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * The engine's Prometheus metrics, on one registry per process. The API serves them at
 * `/metrics`; a standalone worker on WORKER_METRICS_PORT. The Temporal SDK's own metrics are
 * served by its runtime (see `installRuntime`).
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'minizaps_process_' });
  const registers = [registry];
  return {
    registry,
    httpRequestSeconds: new Histogram({
      name: 'minizaps_http_request_duration_seconds',
      help: 'API request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS,
      registers,
    }),
    triggers: new Counter({
      name: 'minizaps_triggers_total',
      help: 'Run triggers by result (accepted, replayed, rejected)',
      labelNames: ['result'],
      registers,
    }),
    runsFinished: new Counter({
      name: 'minizaps_runs_finished_total',
      help: 'Runs that ended, by status',
      labelNames: ['status'],
      registers,
    }),
    runSeconds: new Histogram({
      name: 'minizaps_run_duration_seconds',
      help: 'Run duration from start to end, by status',
      labelNames: ['status'],
      buckets: SECONDS,
      registers,
    }),
    stepSeconds: new Histogram({
      name: 'minizaps_step_attempt_duration_seconds',
      help: 'Duration of connector step attempts, by step type and outcome',
      labelNames: ['type', 'outcome'],
      buckets: SECONDS,
      registers,
    }),
    stepAttempts: new Counter({
      name: 'minizaps_step_attempts_total',
      help: 'Connector step attempts, by step type',
      labelNames: ['type'],
      registers,
    }),
    stepFailures: new Counter({
      name: 'minizaps_step_failures_total',
      help: 'Failed connector step attempts, by step type and error code',
      labelNames: ['type', 'code'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'minizaps_dead_letters_total',
      help: 'Steps parked as dead letters',
      labelNames: ['type', 'code'],
      registers,
    }),
    slaBreaches: new Counter({
      name: 'minizaps_sla_breaches_total',
      help: 'Runs that outlasted their SLA (maxDuration), by workflow id',
      labelNames: ['workflow'],
      registers,
    }),
    runsWithProblems: new Gauge({
      name: 'minizaps_runs_with_problems',
      help: 'Open runs whose workflow tasks keep failing (set by the reconciler)',
      registers,
    }),
    backlog: new Gauge({
      name: 'minizaps_task_queue_backlog',
      help: 'Approximate backlog of the task queue, by task type',
      labelNames: ['task_type'],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

import type { RateStore } from '../activities/rate/store.js';
import type { Reserved } from '../activities/reserved.js';
import type { SecretSource } from '../activities/secret-stores/resolver.js';
import { Client } from '@temporalio/client';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { DefaultLogger, Runtime, Worker, type LogEntry, type NativeConnection } from '@temporalio/worker';
import type { Metrics } from '../shared/metrics.js';
import type { Tracing } from '../shared/tracing.js';
import { dataConverter, type Codecs } from '../temporal/connection.js';
import { createActivities } from '../activities/activities.js';
import { createApprovalActivities } from '../activities/approvals.js';
import { approvalLinks } from '../shared/approval-links.js';
import { publicUrl } from '../shared/config.js';
import { keyRings } from '../shared/crypto.js';
import { runIndexSinks } from '../activities/run-index.js';
import { followTemporal } from './reconciler.js';
import { pruneBeside, type RetentionConfig } from './retention.js';
import { workflowCodeOptions, type VersioningConfig } from './versioning.js';
import type { Repos } from '../db/repos.js';
import { topicRulesOf } from '../activities/kafka/topic-access.js';
import { runLimits, type Config, type RunLimitSettings } from '../shared/config.js';
import { createTriggerActivities } from '../triggers/schedule/firing-activities.js';
import { followSchedules } from '../triggers/schedule/reconciler.js';
import { createAdmissionActivities } from '../runs/admission-activities.js';
import { createRerunActivities } from '../runs/bulk-rerun-activities.js';
import { createEventActivities } from '../runs/event-activities.js';
import { toMillis } from '../definitions/duration.js';
import { createFailureActivities } from '../runs/failure-activities.js';
import type { Logger } from '../shared/logger.js';

let runtimeInstalled = false;

/** Routes the Temporal SDK's own logs into pino and serves its metrics (once per process). */
export function installRuntimeLogger(logger: Logger, sdkMetricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    ...(sdkMetricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } } : {}),
    logger: new DefaultLogger('INFO', (entry: LogEntry) => {
      const level =
        entry.level === 'TRACE'
          ? 'trace'
          : entry.level === 'DEBUG'
            ? 'debug'
            : entry.level === 'WARN'
              ? 'warn'
              : entry.level === 'ERROR'
                ? 'error'
                : 'info';
      sdk[level](entry.meta ?? {}, entry.message);
    }),
  });
}

/** A worker polling the task queue: the interpreter workflow and every connector activity. */
export async function createWorker(deps: {
  config: RunLimitSettings &
    Pick<
      Config,
      | 'TEMPORAL_NAMESPACE'
      | 'TEMPORAL_TASK_QUEUE'
      | 'WORKER_MAX_CONCURRENT_ACTIVITIES'
      | 'WORKER_MAX_CACHED_WORKFLOWS'
      | 'WORKFLOW_BUNDLE_PATH'
      | 'HTTP_ALLOWLIST'
      | 'STEP_OUTPUT_MAX_BYTES'
      | 'CODE_MAX_MS'
      | 'CODE_MAX_MEMORY_MB'
      | 'SCHEDULE_RECONCILE_INTERVAL_MS'
      | 'REDIS_URL'
      | 'KAFKA_TENANT_TOPIC_PREFIX'
      | 'KAFKA_TOPIC_GRANTS'
      | 'KAFKA_DLQ_TOPIC'
      | 'EVENT_BUFFER_TTL'
      | 'SECRETS_KEYS'
      | 'PAYLOAD_KEYS'
      | 'ENCRYPT_PAYLOADS'
      | 'PUBLIC_URL'
      | 'API_HOST'
      | 'API_PORT'
    > &
    VersioningConfig &
    RetentionConfig;
  connection: NativeConnection;
  /** The engine's own services, which no connector may reach. */
  reserved?: Reserved;
  /** Where `$secret('…')` resolves, shared with this process's API; absent: the sealed store only. */
  secrets?: SecretSource;
  /** Step rate limits and slots, shared with this process's API. */
  stepRates?: RateStore;
  repos: Repos;
  metrics: Metrics;
  tracing?: Tracing;
  /** Payload encryption (when on) and the claim-check of large payloads. */
  codecs: Codecs;
  /** Where the run index reconciler and bulk re-runs log. */
  logger: Logger;
}): Promise<Worker> {
  const { config } = deps;
  const plugins = deps.tracing
    ? [new OpenTelemetryPlugin({ resource: deps.tracing.resource, spanProcessor: deps.tracing.spanProcessor })]
    : [];
  // A prebuilt bundle (`npm run build`) saves the ~2 s of bundling at every start. With a deployment
  // name, the worker declares its build (docs/operations.md, "Upgrades") and takes only the tasks routed to it.
  const workflows = await workflowCodeOptions(config, plugins);
  // Activities that start runs (admission gates, bulk re-runs) do so through a client on this connection.
  const client = new Client({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(deps.codecs),
  });
  const worker = await Worker.create({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...workflows,
    activities: {
      ...createActivities(deps.repos, {
        allowlist: config.HTTP_ALLOWLIST,
        reserved: deps.reserved,
        secrets: deps.secrets,
        rates: deps.stepRates,
        metrics: deps.metrics,
        maxOutputBytes: config.STEP_OUTPUT_MAX_BYTES,
        code: { maxMs: config.CODE_MAX_MS, maxMemoryMb: config.CODE_MAX_MEMORY_MB },
        redisUrl: config.REDIS_URL,
        topicRules: topicRulesOf(config),
      }),
      ...createApprovalActivities(deps.repos.approvals, approvalLinks(keyRings(config).ring, publicUrl(config))),
      ...createTriggerActivities(deps.repos, runLimits(config)),
      ...createAdmissionActivities(client, config.TEMPORAL_TASK_QUEUE),
      ...createEventActivities({
        client,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        ttlMs: toMillis(config.EVENT_BUFFER_TTL),
      }),
      ...createRerunActivities({
        workflows: deps.repos.workflows,
        runs: deps.repos.runs,
        temporal: client,
        logger: deps.logger,
        metrics: deps.metrics,
        config,
      }),
      ...createFailureActivities({
        workflows: deps.repos.workflows,
        runs: deps.repos.runs,
        temporal: client,
        logger: deps.logger,
        metrics: deps.metrics,
        config,
      }),
    },
    dataConverter: dataConverter(deps.codecs),
    sinks: runIndexSinks(deps.repos.runs, deps.logger, deps.metrics),
    plugins,
    // On SIGTERM/SIGINT the worker stops polling and gives in-flight activities this long to finish.
    shutdownGraceTime: '20s',
    // Connector steps run as local activities when short, as regular ones when long: one bound for both.
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentLocalActivityExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
  });
  const deployment = workflows.workerDeploymentOptions;
  if (deployment?.useWorkerVersioning)
    deps.logger.info(
      { ...deployment.version, versioningBehavior: deployment.defaultVersioningBehavior },
      'worker deployment version',
    );
  // Every worker follows Temporal into the run index while it runs (replicas take turns).
  followTemporal(worker, {
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    closures: deps.repos.runClosures,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  // And makes Temporal's Schedules follow the stored triggers, now and periodically (replicas take turns).
  const schedules = { triggers: deps.repos.triggers, closures: deps.repos.runClosures };
  followSchedules(
    worker,
    {
      client,
      ...schedules,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      logger: deps.logger.child({ component: 'schedules' }),
    },
    config.SCHEDULE_RECONCILE_INTERVAL_MS,
  );
  // And prunes closed runs from the index by age and count per tenant (replicas take turns).
  pruneBeside(worker, config, deps.logger);
  return worker;
}

import { createServer, type Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createApp } from './api/app.js';
import type { ApiDeps } from './api/env.js';
import { rateLimitsFromConfig } from './api/middleware/rate-limit.js';
import { startApi } from './api/server.js';
import { stepRateStore } from './activities/activities.js';
import { createReserved, reservedEndpoints } from './activities/reserved.js';
import { createSecretResolver, secretStoreSettings } from './activities/secret-stores/resolver.js';
import { migrate } from './db/migrate.js';
import { createPool, type Pool } from './db/pool.js';
import { createRepos, type Repos } from './db/repos.js';
import { watchLatestVersions, type LatestVersions } from './db/workflow-changes.js';
import type { Config } from './shared/config.js';
import { keyRings } from './shared/crypto.js';
import { AppError } from './shared/errors.js';
import type { Logger } from './shared/logger.js';
import { createMetrics, type Metrics } from './shared/metrics.js';
import { setupTracing, type Tracing } from './shared/tracing.js';
import { connectClient, connectWorker, createCodecs, type Codecs } from './temporal/connection.js';
import { createWorker, installRuntimeLogger } from './worker/worker.js';
import { createKafka } from './triggers/kafka/client.js';

export interface BootstrapOptions {
  logger: Logger;
  /** `service.name` of this process's traces. */
  service: string;
  /** The API: served over HTTP with its rate limits, or only built (tests call `app.request`). */
  api?: 'serve' | 'app';
  /** A worker in this process (with its run index reconciler); the API's client then shares its connection. */
  worker?: boolean;
  /** An open Temporal connection to use (a test environment's); otherwise one is opened, and closed by `stop()`. */
  connection?: NativeConnection;
  /** Tracing set up by the caller (tests); otherwise from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. */
  tracing?: Tracing;
}

/** A started process: what it is made of, and `stop()`, which closes what `bootstrap` opened. */
export interface Process {
  config: Config;
  pool: Pool;
  repos: Repos;
  codecs: Codecs;
  metrics: Metrics;
  temporal: Client;
  /** What the API runs on: a test builds variants of the app from it. */
  deps: ApiDeps;
  app?: ReturnType<typeof createApp>;
  /** Where the API listens, when served. */
  url?: string;
  worker?: Worker;
  /** Settles when the worker stopped (on SIGINT/SIGTERM the SDK stops it by itself). */
  workerDone?: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wires a process the one way every entry point does (API, worker, `npm run dev`, the tests'
 * stack, the benchmarks): PostgreSQL pool and migrations, repositories, key rings, payload codecs
 * (every process claim-checks large payloads), the Temporal connection and client, then the
 * worker and the API as asked. A process without the API serves the worker's /metrics itself.
 *
 * @example
 * const app = await bootstrap(config, { logger, service: 'mini-zaps-api', api: 'serve' });
 * process.once('SIGTERM', () => void app.stop());
 */
export async function bootstrap(config: Config, opts: BootstrapOptions): Promise<Process> {
  const { logger } = opts;
  if (!config.DATABASE_URL)
    throw new AppError({
      code: 'DATABASE_URL_REQUIRED',
      message: 'DATABASE_URL is required (npm run dev starts an embedded PostgreSQL)',
    });
  if (opts.worker) installRuntimeLogger(logger, config.TEMPORAL_SDK_METRICS_ADDRESS);
  const tracing =
    opts.tracing ?? setupTracing(opts.service, { otlpEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT });
  if (opts.api && config.AUTH_MODE === 'off')
    logger.warn('AUTH_MODE=off: authentication is OFF, every caller acts as tenant "default" with every scope');
  const pool = createPool(config.DATABASE_URL, logger);
  const closers: (() => Promise<unknown>)[] = [() => pool.end()];
  await migrate(pool);
  const metrics = createMetrics();
  const connection = opts.connection ?? (opts.worker ? await connectWorker(config) : undefined);
  const latest: LatestVersions | undefined = opts.api ? watchLatestVersions(config.DATABASE_URL, logger) : undefined;
  if (latest) closers.unshift(() => latest.close());
  const { ring, payloadRing } = keyRings(config);
  const repos = createRepos(pool, ring, latest);
  const codecs = createCodecs(config, repos.claims, payloadRing);
  // The engine's own services: no connector of this process may reach them, whatever the allow-list.
  const reserved = createReserved(reservedEndpoints(config));
  // One store of step rate limits and slots: the API's step test queues with the runs of this process (all, with Redis).
  const stepRates = stepRateStore(config.REDIS_URL);
  // One cache of external secrets per process, for its worker and its API's step tests.
  const secretSource = createSecretResolver({
    builtIn: repos.secrets,
    stores: repos.secretStores,
    ...secretStoreSettings(config, reserved),
  });
  const worker =
    opts.worker && connection
      ? await createWorker({
          ...{ config, connection, reserved, stepRates, repos, metrics, tracing, codecs, logger },
          secrets: secretSource,
        })
      : undefined;
  // On the worker's connection, the runs the API triggers start eagerly on this worker.
  const temporal = await connectClient(config, codecs, connection);
  if (!opts.connection) closers.unshift(() => temporal.connection.close());
  const kafka = config.KAFKA_BROKERS ? createKafka(config, logger) : undefined;
  const deps: ApiDeps = {
    config,
    pool,
    temporal,
    ...repos,
    ring,
    payloadRing,
    logger,
    metrics,
    kafka,
    reserved,
    stepRates,
    secretSource,
  };
  const api = await startApiAs(opts.api, deps, config, closers);
  const workerDone = worker?.run();
  if (worker) logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
  // WORKER_METRICS_PORT=0 turns it off.
  const metricsServer =
    worker && !opts.api && config.WORKER_METRICS_PORT
      ? serveMetrics(metrics, config.WORKER_METRICS_PORT, logger)
      : undefined;
  return {
    ...{ config, pool, repos, codecs, metrics, temporal, deps, worker, workerDone, app: api.app, url: api.url },
    async stop() {
      await api.stopServing?.();
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await workerDone?.catch((err: unknown) => logger.error({ err }, 'worker failed'));
      await Promise.allSettled(closers.map((close) => close()));
      metricsServer?.close();
      if (!opts.tracing) await tracing?.shutdown();
    },
  };
}

/** The API as asked: served over HTTP (with rate limits, Redis-backed when configured), or the app alone. */
async function startApiAs(
  mode: BootstrapOptions['api'],
  deps: ApiDeps,
  config: Config,
  closers: (() => Promise<unknown>)[],
): Promise<{ app?: ReturnType<typeof createApp>; url?: string; stopServing?: () => Promise<void> }> {
  if (mode === 'app') return { app: createApp(deps) };
  if (mode !== 'serve') return {};
  const rate = rateLimitsFromConfig(config);
  closers.push(() => rate.close());
  await rate.ready;
  const api = await startApi({ ...deps, config, rateLimits: rate.limits });
  // API_PORT=0 listens on a port known only now.
  deps.reserved?.add({ host: config.API_HOST, port: Number(new URL(api.url).port), what: 'the API' });
  return { url: api.url, stopServing: () => api.stop() };
}

/** The worker's own /metrics: runs, steps, attempts, failures, dead letters. */
function serveMetrics(metrics: Metrics, port: number, logger: Logger): Server {
  const server = createServer((_req, res) => {
    void metrics.registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
  }).listen(port, '127.0.0.1');
  server.on('error', (err) => logger.warn({ err }, 'worker metrics endpoint unavailable'));
  return server;
}

import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bootstrap } from '../../src/bootstrap.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { loadConfig } from '../../src/shared/config.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import { pino } from 'pino';
import type { Tracing } from '../../src/shared/tracing.js';
import { devServerProblemArgs } from '../../src/temporal/run-closure.js';
import { devServerScheduleArgs } from '../../src/triggers/schedules.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import { installRuntimeLogger } from '../../src/worker/worker.js';
import { freePort } from './ports.js';

/** A logger at debug level that keeps every line (the tests read what was logged). */
function capturingLogger(lines: string[]): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
}

/** A fixed key ring for tests. */
export const TEST_KEYS = `test:${Buffer.alloc(32, 7).toString('base64')}`;
/** A fixed payload key ring for tests, apart from the secrets' (used only with ENCRYPT_PAYLOADS=true). */
export const TEST_PAYLOAD_KEYS = `payload:${Buffer.alloc(32, 9).toString('base64')}`;

/** The binaries `scripts/ensure.mjs` provisioned (npm test runs it first). */
export function toolPaths(): { temporal: string; testServer: string } {
  return JSON.parse(readFileSync(new URL('../../.tools/paths.json', import.meta.url), 'utf8'));
}

/**
 * The whole engine for one test file: a real Temporal dev server, a real PostgreSQL (embedded,
 * in a temporary directory), the worker (unless `worker: false`, for tests that run it as a
 * process) and the API app.
 */
export async function startStack(
  opts: {
    worker?: boolean;
    tracing?: Tracing;
    env?: Record<string, string>;
    logLines?: string[];
    temporalUi?: boolean;
  } = {},
) {
  const logger = opts.logLines
    ? capturingLogger(opts.logLines)
    : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test');
  installRuntimeLogger(logger);
  const temporalPort = await freePort();
  // The dev server's Web UI, for tests that look at runs there (runs' links then point to it).
  const uiPort = opts.temporalUi ? await freePort() : undefined;
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: toolPaths().temporal },
      ip: '127.0.0.1',
      port: temporalPort,
      ...(uiPort ? { uiPort } : {}),
      searchAttributes: SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error', ...devServerProblemArgs(2), ...devServerScheduleArgs()],
    },
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'mini-zaps-test-'));
  await chmod(dataDir, 0o755); // PostgreSQL runs as its own user when the tests run as root
  const db = await startEmbeddedPostgres(join(dataDir, 'pg'), await freePort(), logger);

  const taskQueue = `test-${Math.random().toString(36).slice(2, 8)}`;
  const config = loadConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: db.url,
    HTTP_ALLOWLIST: '127.0.0.1',
    AUTH_MODE: 'off',
    SECRETS_KEYS: TEST_KEYS,
    PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    ...(uiPort ? { TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}` } : {}),
    ...opts.env,
  });
  // The production wiring, on the test server's connection (as in `npm run dev`, the runs the API
  // triggers start eagerly on the worker) with the API as an in-process app.
  const engine = await bootstrap(config, {
    logger,
    service: 'mini-zaps-test',
    api: 'app',
    worker: opts.worker !== false,
    connection: env.nativeConnection,
    tracing: opts.tracing,
  });
  const { deps, pool, temporal } = engine;
  const { app } = engine;
  if (!app) throw new Error('bootstrap built no API app');

  /** Calls the API in process; the JSON body of the answer is parsed. */
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await app.request(path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  return {
    app,
    deps,
    call,
    /** A client with the same data converter as the API (decodes encrypted payloads); `rawClient` has none. */
    client: temporal,
    rawClient: env.client,
    pool,
    config,
    /** What a worker process needs in its environment to join this stack. */
    workerEnv: {
      SECRETS_KEYS: TEST_KEYS,
      PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      AUTH_MODE: 'off',
      WORKER_METRICS_PORT: '0',
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'info',
      HTTP_ALLOWLIST: '127.0.0.1',
    },
    async stop() {
      await engine.stop();
      await env.teardown();
      await db.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { devServerProblemArgs } from '../temporal/run-closure.js';
import { devServerSearchAttributeArgs } from '../temporal/search-attributes.js';
import { devServerScheduleArgs } from '../triggers/schedules.js';
import { record } from './processes.js';

/**
 * Starts `temporal server start-dev` (SQLite file and Web UI in DATA_DIR) and records it in the
 * pid file. It runs in a process group of its own, so Ctrl-C reaches dev alone and dev stops it
 * after the worker; it writes straight to its log file, so it never depends on dev being alive.
 */
export async function startTemporalDevServer(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'>,
  dataDir: string,
  log: Logger,
  isStopping: () => boolean,
): Promise<ChildProcess> {
  const [host = '127.0.0.1', port = '7233'] = config.TEMPORAL_ADDRESS.split(':');
  const uiPort = new URL(config.TEMPORAL_UI_URL).port || '8233';
  const args = [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    port,
    '--ui-port',
    uiPort,
    '--db-filename',
    join(dataDir, 'temporal.db'),
    '--namespace',
    config.TEMPORAL_NAMESPACE,
    '--log-level',
    'warn',
    ...devServerSearchAttributeArgs(),
    ...devServerProblemArgs(),
    ...devServerScheduleArgs(),
  ];
  const logFile = join(dataDir, 'temporal.log');
  const out = openSync(logFile, 'a');
  const child = spawn(temporalBinary(), args, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  if (child.pid) record(dataDir, 'Temporal dev server', child.pid, { group: true });
  // However this process ends (an uncaught error included), the dev server it started ends too.
  process.once('exit', () => child.kill('SIGTERM'));
  child.once('exit', (code) => {
    if (!isStopping()) log.error({ code }, `the Temporal dev server exited; see ${logFile}`);
  });
  if (!(await temporalAnswers(config.TEMPORAL_ADDRESS, 60)))
    throw new Error(`the Temporal dev server did not start; see ${logFile}`);
  return child;
}

/** Whether a Temporal server answers at `address` within `seconds`. */
export async function temporalAnswers(address: string, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  do {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  } while (Date.now() < deadline);
  return false;
}

/** Stops a child: SIGTERM, then SIGKILL after 10 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

function temporalBinary(): string {
  try {
    const paths: unknown = JSON.parse(readFileSync('.tools/paths.json', 'utf8'));
    if (typeof paths === 'object' && paths !== null && 'temporal' in paths && typeof paths.temporal === 'string')
      return paths.temporal;
  } catch {
    // not provisioned: fall back to PATH
  }
  return 'temporal';
}

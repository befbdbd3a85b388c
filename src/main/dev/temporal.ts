import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { devServerProblemArgs } from '../../temporal/run-closure.js';
import { devServerSearchAttributeArgs } from '../../workflows/search-attributes.js';
import { devServerScheduleArgs } from '../../triggers/schedule/temporal-schedules.js';
import { record } from './processes.js';

/** How long a dev server may take to answer after it was started: a loaded machine is slow. */
export const DEV_SERVER_READY_SECONDS = 60;

/**
 * How the dev server keeps its SQLite file: a write-ahead log, synced at checkpoints rather than at
 * every commit. A killed server loses nothing (its writes are in the OS's page cache); a power cut or
 * kernel crash may lose the last commits, never the file. It doubles the server's rate here (an
 * empty workflow: 40 → 80 runs/s on 2 cores). Production runs the server on PostgreSQL.
 */
export const DEV_SERVER_SQLITE_ARGS = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];

/** How one `temporal server start-dev` is launched: by `npm run dev` and by the tests alike. */
export interface DevServerLaunch {
  /** host:port of its frontend. */
  address: string;
  namespace: string;
  /** Its Web UI's port; none (headless) when unset. */
  uiPort?: number;
  /** Its SQLite file; in memory when unset. */
  dbFile?: string;
  /** The `temporal` CLI (default: the one `scripts/ensure.mjs` provisioned, else PATH's). */
  binary?: string;
  /** Where its output goes; the last lines are quoted when it does not start. */
  logFile: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** After the search attributes and the problem threshold. */
  extraArgs?: string[];
  /** How long to poll for it to answer (default {@link DEV_SERVER_READY_SECONDS}). */
  readySeconds?: number;
  /** Wait this long before the binary starts (a slow machine, on purpose: the tests prove they wait). */
  startDelaySeconds?: number;
  /** In a process group of its own (Ctrl-C on the launcher's terminal then does not reach it). */
  detached?: boolean;
  /** Called as soon as the process exists, before it answers (to record it). */
  onSpawn?: (child: ChildProcess) => void;
}

/** The dev server exited or never answered; its log's last lines are in the message. */
export class DevServerStartError extends Error {
  constructor(
    message: string,
    /** It exited by itself (e.g. a port it picked for an internal service was taken): starting again may work. */
    readonly exited: boolean,
  ) {
    super(message);
    this.name = 'DevServerStartError';
  }
}

/**
 * Starts `temporal server start-dev` with its output in `logFile` and waits until it answers,
 * polling for up to `readySeconds`. If it exits or never answers, it is stopped and the error
 * quotes the last lines of its log.
 */
export async function launchTemporalDevServer(launch: DevServerLaunch): Promise<ChildProcess> {
  const [host = '127.0.0.1', port = '7233'] = launch.address.split(':');
  const args = [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    port,
    ...(launch.uiPort ? ['--ui-port', String(launch.uiPort)] : ['--headless']),
    ...(launch.dbFile ? ['--db-filename', launch.dbFile, ...DEV_SERVER_SQLITE_ARGS] : []),
    '--namespace',
    launch.namespace,
    '--log-level',
    launch.logLevel ?? 'warn',
    ...devServerSearchAttributeArgs(),
    ...(launch.extraArgs ?? devServerProblemArgs()),
    ...devServerScheduleArgs(),
  ];
  const out = openSync(launch.logFile, 'a');
  const [command, argv] = delayed(launch.binary ?? temporalBinary(), args, launch.startDelaySeconds ?? 0);
  const child = spawn(command, argv, { stdio: ['ignore', out, out], detached: launch.detached ?? false });
  closeSync(out);
  launch.onSpawn?.(child);
  const seconds = launch.readySeconds ?? DEV_SERVER_READY_SECONDS;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  if (await temporalAnswers(launch.address, seconds, exited)) return child;
  const exitedEarly = exited();
  const why = exitedEarly
    ? `exited (${child.exitCode ?? child.signalCode}) before it answered`
    : `did not answer within ${seconds} s`;
  await stopChild(child);
  throw new DevServerStartError(
    `the Temporal dev server at ${launch.address} ${why}; last lines of ${launch.logFile}:\n${logTail(launch.logFile)}`,
    exitedEarly,
  );
}

/** The command that runs `binary args`, after a pause of `seconds` when there is one (same pid: `exec`). */
function delayed(binary: string, args: string[], seconds: number): [string, string[]] {
  if (seconds <= 0) return [binary, args];
  return ['sh', ['-c', `sleep ${Number(seconds)}; exec "$0" "$@"`, binary, ...args]];
}

/** The last `lines` lines of a log file (what a component said before it failed to start). */
export function logTail(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(empty)';
  } catch {
    return '(no log)';
  }
}

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
  const logFile = join(dataDir, 'temporal.log');
  return launchTemporalDevServer({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    uiPort: Number(new URL(config.TEMPORAL_UI_URL).port || '8233'),
    dbFile: join(dataDir, 'temporal.db'),
    logFile,
    detached: true,
    onSpawn: (child) => {
      if (child.pid) record(dataDir, 'Temporal dev server', child.pid, { group: true });
      // However this process ends (an uncaught error included), the dev server it started ends too.
      process.once('exit', () => child.kill('SIGTERM'));
      child.once('exit', (code) => {
        if (!isStopping()) log.error({ code }, `the Temporal dev server exited; see ${logFile}`);
      });
    },
  });
}

/** Whether a Temporal server answers at `address` within `seconds` (sooner false once `gaveUp` says so). */
export async function temporalAnswers(
  address: string,
  seconds: number,
  gaveUp: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  do {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      return true;
    } catch {
      if (gaveUp()) return false;
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

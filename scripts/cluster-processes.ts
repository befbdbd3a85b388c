import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { record } from '../src/main/dev/processes.js';

// However the parent ends, its children end too: one listener for all of them (a restarted member
// is a new child, and one listener each would pile up).
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Where the children are recorded for a watchdog (`npm run cluster`), if anywhere. */
let pidDir: string | undefined;

/**
 * Records every child started from now on in `<dir>/dev.pids.json`, as `npm run dev` does, so
 * that the watchdog (src/main/dev/watchdog.ts) stops them however the cluster script ends, SIGKILL included.
 */
export function recordChildrenIn(dir: string): void {
  pidDir = dir;
}

/** Records a process the topology started some other way (PostgreSQL), when children are recorded. */
export function recordChild(
  name: string,
  pid: number,
  opts: { signal?: NodeJS.Signals; group?: boolean; execs?: boolean },
): void {
  if (pidDir) record(pidDir, name, pid, opts);
}

/** How to install the programs the topology runs, for a one-line message when one is missing. */
const INSTALL: Record<string, string> = { 'redis-server': 'apt-get install redis-server' };

/**
 * A child of the topology: its own process group (Ctrl-C reaches the cluster script alone, which
 * stops the children in order), output to `<logDir>/<name>.log`. Settles once it runs; a program
 * that is not installed rejects with one line naming it and how to install it.
 */
export async function spawnLogged(
  name: string,
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  logDir: string,
): Promise<ChildProcess> {
  const out = openSync(join(logDir, `${name}.log`), 'a');
  const child = spawn(command, args, {
    stdio: ['ignore', out, out],
    cwd: join(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    detached: true,
  });
  closeSync(out);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'ENOENT'
            ? `${command} is not installed${INSTALL[command] ? ` (install it: ${INSTALL[command]})` : ''}`
            : `${name} could not start: ${err.message}`,
        ),
      ),
    );
  });
  child.on('error', () => undefined); // after it ran, a failed signal is no crash
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (child.pid) recordChild(name, child.pid, { group: true, execs: true });
  return child;
}

/** Sends `signal`, then SIGKILL after `graceMs`; settles when the child exited. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 25_000): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill(signal);
  });
}

/** Runs a command to its end; rejects with the tail of its output when it fails. */
export function run(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    // A script run to its end dies with its parent: any SIGKILL of the cluster script stops it.
    live.add(child);
    child.once('exit', () => live.delete(child));
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(out.trim())
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${(err || out).slice(-2000)}`)),
    );
  });
}

export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A base port whose offsets are all free (Temporal's services use several around it). */
export async function freeBase(offsets: readonly number[], from = 20_000, to = 40_000): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from));
    const free = await Promise.all(offsets.map((o) => portFree(base + o)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no free port range in ${from}-${to}`);
}

/** Polls until `check` answers true, every `intervalMs`; bounded. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

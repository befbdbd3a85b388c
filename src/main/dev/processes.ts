import { spawn } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The processes `npm run dev` starts, kept in a pid file under DATA_DIR so that they can be
 * stopped whatever way dev ends: by the watchdog as soon as dev is gone, else at the next start.
 * A pid alone may since belong to another program; a pid with its start time (and program)
 * names one process, so nothing but what dev started is ever signalled. Linux (/proc) only:
 * elsewhere nothing is recognised and nothing is stopped.
 */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
  startTime: string;
  /** argv[0]; empty for a process recorded as one that may exec another program (a start script). */
  program: string;
}

export interface ChildRecord extends ProcessIdentity {
  name: string;
  /** The signal that stops it cleanly (PostgreSQL: SIGINT, a fast shutdown); SIGKILL follows if it lingers. */
  signal: NodeJS.Signals;
  /** Started as the leader of its own process group: the whole group is signalled. */
  group: boolean;
}

interface PidFile {
  owner?: ProcessIdentity;
  children: ChildRecord[];
}

const pidFilePath = (dataDir: string) => join(dataDir, 'dev.pids.json');

/** Who `pid` is now; undefined when it has exited (zombies included) or cannot be read. */
export function identify(pid: number): ProcessIdentity | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; what follows its last ')' does not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, startTime] = [fields[0], fields[19]];
    const program = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    if (!startTime || !program || state === 'Z' || state === 'X') return undefined;
    return { pid, startTime, program };
  } catch {
    return undefined;
  }
}

/** The whole command line of `pid`, for messages. */
export function commandLine(pid: number): string | undefined {
  try {
    // On one line whatever its arguments hold (a script passed with -c may have newlines).
    return (
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').replace(/\s+/g, ' ').trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

function isAlive(p: ProcessIdentity): boolean {
  const now = identify(p.pid);
  return now !== undefined && now.startTime === p.startTime && (p.program === '' || now.program === p.program);
}

function readPidFile(dataDir: string): PidFile {
  try {
    const parsed: unknown = JSON.parse(readFileSync(pidFilePath(dataDir), 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'children' in parsed && Array.isArray(parsed.children)) {
      return {
        owner: 'owner' in parsed ? asIdentity(parsed.owner) : undefined,
        children: parsed.children.flatMap(asChild),
      };
    }
  } catch {
    // none yet, or unreadable: nothing recorded
  }
  return { children: [] };
}

function asIdentity(v: unknown): ProcessIdentity | undefined {
  if (typeof v !== 'object' || v === null || !('pid' in v) || !('startTime' in v) || !('program' in v))
    return undefined;
  const { pid, startTime, program } = v;
  return typeof pid === 'number' && typeof startTime === 'string' && typeof program === 'string'
    ? { pid, startTime, program }
    : undefined;
}

function asChild(v: unknown): ChildRecord[] {
  const id = asIdentity(v);
  if (!id || typeof v !== 'object' || v === null || !('name' in v) || !('signal' in v) || !('group' in v)) return [];
  const { name, signal, group } = v;
  return typeof name === 'string' && (signal === 'SIGTERM' || signal === 'SIGINT') && typeof group === 'boolean'
    ? [{ ...id, name, signal, group }]
    : [];
}

function writePidFile(dataDir: string, file: PidFile): void {
  const path = pidFilePath(dataDir);
  writeFileSync(`${path}.tmp`, JSON.stringify(file));
  renameSync(`${path}.tmp`, path);
}

/** The dev process that recorded DATA_DIR as its own, if it still runs. */
export function runningOwner(dataDir: string): ProcessIdentity | undefined {
  const { owner } = readPidFile(dataDir);
  return owner && owner.pid !== process.pid && isAlive(owner) ? owner : undefined;
}

/** Makes this process the owner of DATA_DIR with no children yet. */
export function claim(dataDir: string): void {
  const owner = identify(process.pid);
  writePidFile(dataDir, { owner, children: [] });
}

/**
 * Records a child right after it started (before anything can go wrong with it). `execs`: it may
 * exec another program later (a start script ending in `exec`), so only its pid and start time,
 * which alone name one process, identify it.
 */
export function record(
  dataDir: string,
  name: string,
  pid: number,
  opts: { signal?: NodeJS.Signals; group?: boolean; execs?: boolean } = {},
): void {
  const id = identify(pid);
  if (!id) return;
  const file = readPidFile(dataDir);
  const child: ChildRecord = {
    ...id,
    ...(opts.execs ? { program: '' } : {}),
    name,
    signal: opts.signal ?? 'SIGTERM',
    group: opts.group ?? false,
  };
  writePidFile(dataDir, { ...file, children: [...file.children, child] });
}

/** After a clean stop: nothing left to reap. */
export function release(dataDir: string): void {
  rmSync(pidFilePath(dataDir), { force: true });
}

/**
 * Stops every recorded child that is still the process dev started: its own signal, then
 * SIGKILL after `graceMs`. Answers the ones it stopped. Safe to run twice at once.
 */
export async function reapOrphans(
  dataDir: string,
  extra: ChildRecord[] = [],
  graceMs = 10_000,
): Promise<ChildRecord[]> {
  const recorded = [...readPidFile(dataDir).children, ...extra];
  const alive = recorded.filter((c, i) => isAlive(c) && recorded.findIndex((d) => d.pid === c.pid) === i);
  for (const child of alive) signal(child, child.signal);
  if (!(await allGone(alive, graceMs))) {
    for (const child of alive.filter(isAlive)) signal(child, 'SIGKILL');
    await allGone(alive, 2_000);
  }
  return alive;
}

function signal(child: ChildRecord, sig: NodeJS.Signals): void {
  try {
    process.kill(child.group ? -child.pid : child.pid, sig);
  } catch {
    // exited meanwhile
  }
}

async function allGone(children: ChildRecord[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (children.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** A PostgreSQL still running on `dir` (its postmaster.pid names a live postgres): left by a dev that died before recording it. */
export function postgresOn(dir: string): ChildRecord | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const id = Number.isInteger(pid) && pid > 0 ? identify(pid) : undefined;
    if (id && basename(id.program).startsWith('postgres') && commandLine(pid)?.includes(dir))
      return { ...id, name: 'PostgreSQL', signal: 'SIGINT', group: false };
  } catch {
    // no server on this directory
  }
  return undefined;
}

/**
 * Starts the watchdog: a process in its own session that reaps the recorded children once this
 * process is gone, however it went (SIGKILL included), because its end of the pipe closes then.
 */
export function startWatchdog(dataDir: string): void {
  const here = fileURLToPath(import.meta.url);
  const script = join(here, '..', `watchdog${extname(here)}`);
  const child = spawn(process.execPath, [...process.execArgv, script, dataDir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => undefined);
  child.unref();
  if (child.stdin instanceof Socket) child.stdin.unref();
}

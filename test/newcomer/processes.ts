import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Socket } from 'node:net';

/** A command started as a newcomer would in a terminal: its own process group, its output kept. */
export interface Launched {
  child: ChildProcess;
  output(): string;
  /** Settles with the output once `pattern` appears in it; rejects if the command exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Its exit code, or the signal that ended it. */
  exited: Promise<number | NodeJS.Signals | null>;
}

export function launch(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Launched {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: 'pipe' });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setInterval(() => {
          if (pattern.test(out)) done(() => resolve(out));
          else if (Date.now() > deadline)
            done(() => reject(new Error(`no ${pattern} after ${timeoutMs} ms:\n${tail(out)}`)));
        }, 250);
        const deadline = Date.now() + timeoutMs;
        const done = (settle: () => void) => (clearInterval(timer), settle());
        void exited.then((code) =>
          done(() => reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${tail(out)}`))),
        );
      }),
  };
}

const tail = (text: string) => text.slice(-3000);

/** Signals a launched command's whole process group. */
export function signalGroup(l: Launched, signal: NodeJS.Signals): void {
  try {
    if (l.child.pid) process.kill(-l.child.pid, signal);
  } catch {
    // gone already
  }
}

/** The processes whose command line or working directory is under `dir`: what a run there left. */
export function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state === 'Z' || !cmdline) continue;
      if (cmdline.includes(dir) || readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) found.push(`${pid} ${cmdline}`);
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}

/** Whether a TCP port accepts connections. */
export function acceptsTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(3000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.connect(port, host);
  });
}

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { commandLine } from './processes.js';

/** A port `npm run dev` is about to listen on, and what for (named in the message if it is taken). */
export interface WantedPort {
  host: string;
  port: number;
  what: string;
}

/**
 * One line naming each wanted port already in use and the process holding it; undefined when
 * all are free. Checked before anything starts, so a leftover process gives this line and not
 * a failure deep inside PostgreSQL or Temporal.
 * @example await portsInUse([{ host: '127.0.0.1', port: 7233, what: 'Temporal gRPC (TEMPORAL_ADDRESS)' }])
 */
export async function portsInUse(wanted: WantedPort[]): Promise<string | undefined> {
  const busy: string[] = [];
  for (const w of wanted) {
    if (w.port === 0) continue;
    const code = await bindError(w.host, w.port);
    if (!code) continue;
    const holder = code === 'EADDRINUSE' ? portHolder(w.port) : undefined;
    const by = holder
      ? `pid ${holder.pid} (${holder.command})`
      : code === 'EADDRINUSE'
        ? 'a process this user cannot see'
        : code;
    busy.push(`port ${w.port} for ${w.what} is in use by ${by}`);
  }
  return busy.length ? `${busy.join('; ')}; stop it or choose another port` : undefined;
}

function bindError(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** The process listening on TCP `port` (any address), from /proc/net/tcp{,6} and /proc/<pid>/fd. */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  const inodes = listeningInodes(port);
  if (!inodes.size) return undefined;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return { pid: Number(pid), command: short(commandLine(Number(pid)) ?? '?') };
    }
  }
  return undefined;
}

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      const localPort = local?.split(':')[1];
      if (state === '0A' && localPort && parseInt(localPort, 16) === port && inode && inode !== '0') inodes.add(inode);
    }
  }
  return inodes;
}

const short = (command: string) => (command.length > 120 ? `${command.slice(0, 117)}...` : command);

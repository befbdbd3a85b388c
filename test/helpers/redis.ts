import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { keepOutput, untilStarted } from './patience.js';
import { freePort } from './ports.js';

export const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;

/**
 * A real redis-server (Debian package) on a free loopback port, started by the test. It has
 * the suite's start patience (a minute) to answer; if it exits or never answers, the error quotes its output.
 */
export async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = `redis://127.0.0.1:${port}`;
  try {
    await untilStarted('redis-server', () => pong(url), { child, output: keepOutput(child) });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { url, stop: () => void child.kill() };
}

async function pong(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } finally {
    probe.disconnect();
  }
}

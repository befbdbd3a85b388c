import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { keepOutput, untilStarted } from './patience.js';
import { freePort } from './ports.js';
import { skipUnlessCi } from './skip.js';

export const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;

/** The Redis tests' `skip`: why they cannot run here; never on CI, where they fail instead (test/helpers/skip.ts). */
export const redisSkipReason = (): string | false =>
  skipUnlessCi(hasRedis ? undefined : 'redis-server is not installed (node scripts/ensure.mjs installs it)');

/**
 * A real redis-server (Debian package) on a free loopback port, started by the test. It has
 * the suite's start patience (a minute) to answer; if it exits or never answers, the error quotes its output.
 */
export async function startRedis(): Promise<{ url: string; stop: () => void }> {
  if (!hasRedis) throw new Error('cannot start Redis: redis-server is not installed');
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

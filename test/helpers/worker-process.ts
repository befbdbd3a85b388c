import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.js';

const WORKER_MAIN = fileURLToPath(new URL('../../src/main/worker.ts', import.meta.url));

/** The worker as its own process, as in production, on the stack `env` names (`stack.workerEnv`). */
export function startWorkerProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves once the worker process says it polls. */
export async function workerReady(child: ChildProcess): Promise<void> {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor('the worker process to start', async () => (out.includes('worker started') ? true : undefined), 60_000);
}

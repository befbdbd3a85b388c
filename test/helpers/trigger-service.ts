import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.js';

const MAIN = fileURLToPath(new URL('../../src/main/triggers.ts', import.meta.url));

/**
 * `npm run triggers` as its own process, with `env` (the stack's or cluster's settings plus the
 * Kafka ones). Resolves once it has started; `kill` signals it (SIGKILL unless told) and waits.
 */
export async function startTriggerService(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      TRIGGERS_METRICS_PORT: '0',
      KAFKA_REFRESH_MS: '500',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-200_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const alive = () => child.exitCode === null && child.signalCode === null;
  await waitFor(
    'the trigger service to start',
    async () => {
      if (!alive()) throw new Error(`the trigger service exited: ${output.slice(-3000)}`);
      return output.includes('kafka trigger service started') ? true : undefined;
    },
    60_000,
  );
  return {
    pid: child.pid ?? 0,
    alive,
    /** What it logged so far (the last 200 kB). */
    output: () => output,
    /** Waits until it consumes `topic` (it re-reads the triggers every 500 ms here). */
    async consuming(topic: string): Promise<void> {
      await waitFor(
        `the trigger service to consume ${topic}`,
        async () => {
          if (!alive()) throw new Error(`the trigger service exited: ${output.slice(-3000)}`);
          return output
            .split('\n')
            .some((line) => line.includes('kafka triggers consuming') && line.includes(`"${topic}"`))
            ? true
            : undefined;
        },
        60_000,
      );
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
      if (!alive()) return;
      child.kill(signal);
      await once(child, 'exit');
    },
  };
}

export type TriggerService = Awaited<ReturnType<typeof startTriggerService>>;

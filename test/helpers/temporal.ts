import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DevServerStartError, launchTemporalDevServer, stopChild } from '../../src/main/dev/temporal.js';
import { devServerProblemArgs } from '../../src/temporal/run-closure.js';
import { freePort } from './ports.js';
import { toolPaths } from './tools.js';

/** A Temporal dev server a test started, on loopback, in memory. */
export interface TestTemporal {
  address: string;
  /** Its Web UI's port, when asked for. */
  uiPort?: number;
  stop(): Promise<void>;
}

/** How many times a dev server that exited at start (a port it picked was taken meanwhile) is started again. */
const ATTEMPTS = 3;

/**
 * Starts `temporal server start-dev` with the launcher `npm run dev` uses: its readiness is polled
 * for up to 60 s (the SDK's own ephemeral server gives up after 5 s), and a start that fails
 * quotes the server's log. The dev server picks ports for its internal services itself, and
 * another process can take one first; then it exits at once and is started again on new ports.
 */
export async function startTestTemporal(opts: {
  /** Where its log goes (temporal.log). */
  dir: string;
  ui?: boolean;
  /** Delay the binary's start by this much (proves the suite waits for a slow start). */
  startDelaySeconds?: number;
}): Promise<TestTemporal> {
  for (let attempt = 1; ; attempt++) {
    const address = `127.0.0.1:${await freePort()}`;
    const uiPort = opts.ui ? await freePort() : undefined;
    try {
      const child = await launchTemporalDevServer({
        binary: toolPaths().temporal,
        address,
        namespace: 'default',
        uiPort,
        logFile: join(opts.dir, 'temporal.log'),
        logLevel: 'error',
        extraArgs: devServerProblemArgs(2),
        startDelaySeconds: opts.startDelaySeconds,
      });
      return { address, uiPort, stop: stopOnExit(child) };
    } catch (err) {
      if (!(err instanceof DevServerStartError && err.exited) || attempt === ATTEMPTS) throw err;
    }
  }
}

/** Stops the server when this process exits however it ends; answers the stop to call first. */
function stopOnExit(child: ChildProcess): () => Promise<void> {
  const kill = () => void child.kill('SIGKILL');
  process.once('exit', kill);
  return async () => {
    process.off('exit', kill);
    await stopChild(child);
  };
}

/**
 * The time-skipping test server, started by the SDK, whose core gives it 5 s to answer (not an
 * option). On a loaded machine that can pass, so a start that timed out is tried again, after a
 * growing pause, up to five times; any other failure is thrown at once.
 */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: toolPaths().testServer } },
      });
    } catch (err) {
      if (!/did not start within/.test(String(err)) || attempt === 5) throw err;
      await new Promise((r) => setTimeout(r, 1_000 * 2 ** (attempt - 1)));
    }
  }
}

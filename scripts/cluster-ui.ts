import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { run, spawnLogged, stopProcess, until } from './cluster-processes.js';

const CONFIG_DIR = join(import.meta.dirname, '..', 'temporal-config');

export interface TemporalUi {
  url: string;
  stop(): Promise<void>;
}

/** Builds (or reuses) the Web UI server in .tools/, prints where it is. */
export const buildTemporalUi = (): Promise<string> => run(join(CONFIG_DIR, 'build-ui.sh'), []);

/**
 * The Temporal Web UI (temporalio/ui-server, its assets embedded) on loopback, pointed at the
 * topology's frontend; ready once its API lists the namespaces through that frontend.
 */
export async function startTemporalUi(opts: {
  temporalAddress: string;
  namespace: string;
  port: number;
  logDir: string;
}): Promise<TemporalUi> {
  const url = `http://127.0.0.1:${opts.port}`;
  const child: ChildProcess = await spawnLogged(
    'temporal-ui',
    join(CONFIG_DIR, 'start-ui.sh'),
    [],
    {
      TEMPORAL_ADDRESS: opts.temporalAddress,
      TEMPORAL_NAMESPACE: opts.namespace,
      TEMPORAL_UI_HOST: '127.0.0.1',
      TEMPORAL_UI_PORT: String(opts.port),
    },
    opts.logDir,
  );
  const log = join(opts.logDir, 'temporal-ui.log');
  // A UI that cannot start (its port taken, a bad config) exits at once: say so rather than wait.
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(`the Temporal Web UI exited on start (see ${log})`));
    child.once('exit', onExit);
  });
  try {
    await Promise.race([
      until(
        `the Temporal Web UI at ${url} (see ${log})`,
        async () => (await fetch(`${url}/api/v1/namespaces/${opts.namespace}`)).status === 200,
        60_000,
      ),
      exited,
    ]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  } finally {
    if (onExit) child.off('exit', onExit);
  }
  return { url, stop: () => stopProcess(child) };
}

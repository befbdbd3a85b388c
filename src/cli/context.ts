import type { Command } from 'commander';
import { apiClient, type ApiClient } from './client.js';
import { createOutput, type Output } from './output.js';
import { resolveTarget, type Target } from './profile.js';

/** What every command is given: the API's client, where to print, the environment. */
export interface Context {
  api: ApiClient;
  target: Target;
  out: Output;
  env: NodeJS.ProcessEnv;
}

/** The context from the global options (`--url`, `--token`, `--profile`, `--json`) and the environment. */
export async function contextOf(command: Command, env: NodeJS.ProcessEnv): Promise<Context> {
  const opts: { url?: string; token?: string; profile?: string; json?: boolean } = command.optsWithGlobals();
  const target = await resolveTarget(opts, env);
  return { api: apiClient(target), target, out: createOutput(opts.json === true), env };
}

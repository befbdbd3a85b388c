import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { apiClient, ok } from '../client.js';
import { createOutput, UsageError } from '../output.js';
import { DEFAULT_URL, saveProfile } from '../profile.js';

/** Reads a token from standard input: one line typed or pasted, or piped. */
async function readToken(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    const line = process.stdin.isTTY ? await rl.question('Paste a token: ') : await firstLine(rl);
    return line.trim();
  } finally {
    rl.close();
  }
}

async function firstLine(rl: ReturnType<typeof createInterface>): Promise<string> {
  for await (const line of rl) return line;
  return '';
}

/** `mz login`: checks a pasted token against the API and stores it in a profile. */
export function loginCommand(mz: Command, env: NodeJS.ProcessEnv): void {
  mz.command('login')
    .description('store the API URL and a token (pasted, or piped on standard input) in a profile')
    .option('--name <profile>', 'the profile to write', 'default')
    .action(async (opts: { name: string }, cmd: Command) => {
      const globals: { url?: string; token?: string; json?: boolean } = cmd.optsWithGlobals();
      const url = (globals.url ?? env.MZ_URL ?? DEFAULT_URL).replace(/\/+$/, '');
      const token = globals.token ?? (await readToken());
      if (!token) throw new UsageError('no token given');
      if (!/^[\w.~+/=-]{1,20000}$/.test(token)) throw new UsageError('that is not a bearer token');
      // A token the API refuses is not stored: listing one workflow needs only workflows:read.
      await ok(apiClient({ url, token }).GET('/v1/workflows', { params: { query: { limit: 1 } } }));
      const path = await saveProfile(env, opts.name, { url, token });
      createOutput(globals.json === true).show(
        { profile: opts.name, url, path },
        (p) => `logged in to ${p.url}; profile '${p.profile}' stored in ${p.path}`,
      );
    });
}

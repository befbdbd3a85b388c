#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { applyCommands } from './commands/apply.js';
import { deadLetterCommands } from './commands/dead-letters.js';
import { loginCommand } from './commands/login.js';
import { migrateCommand } from './commands/migrate.js';
import { runCommands } from './commands/runs.js';
import { testCommand } from './commands/test.js';
import { triggerCommands } from './commands/triggers.js';
import { describeError, EXIT, exitCodeOf } from './output.js';

/**
 * `mz`, the command line of Mini-Zaps: it talks to the API only, over HTTP (MZ_URL and MZ_TOKEN,
 * `--url`/`--token`, or a profile `mz login` stored). `mz test` alone runs without a server.
 *
 * @example mz apply -f workflows/ --yes
 */
export function program(env: NodeJS.ProcessEnv): Command {
  const mz = new Command('mz')
    .description('Mini-Zaps from the command line: apply workflows from files, test them, follow runs')
    .option('--url <url>', 'the API (default: MZ_URL, the profile, http://localhost:3000)')
    .option('--token <token>', 'a bearer token (default: MZ_TOKEN, the profile)')
    .option('--profile <name>', 'a profile of ~/.config/mz/config.json (default: MZ_PROFILE, the current one)')
    .option('--json', 'print JSON for scripts instead of tables')
    .showHelpAfterError()
    .exitOverride();
  loginCommand(mz, env);
  applyCommands(mz, env);
  runCommands(mz, env);
  deadLetterCommands(mz, env);
  triggerCommands(mz, env);
  testCommand(mz, env);
  migrateCommand(mz, env);
  return mz;
}

/** Runs `mz` with these arguments; answers the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    await program(env).parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    process.stderr.write(`${describeError(err)}\n`);
    return exitCodeOf(err);
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);

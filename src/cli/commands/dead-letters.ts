import { Option, type Command } from 'commander';
import { ok } from '../client.js';
import { contextOf } from '../context.js';
import { UsageError, table } from '../output.js';
import { positiveInt } from './parse.js';

const STATUSES = ['open', 'redriven', 'discarded'] as const;

/** `mz dead-letters ls|redrive`. */
export function deadLetterCommands(mz: Command, env: NodeJS.ProcessEnv): void {
  const dl = mz.command('dead-letters').description('steps that failed for good, parked in their runs');
  dl.command('ls')
    .description('list dead letters, newest first')
    .option('-w, --workflow <id>', 'only of this workflow')
    .addOption(new Option('-s, --status <status>', 'only in this status').choices(STATUSES).default('open'))
    .option('-n, --limit <n>', 'at most this many', positiveInt, 50)
    .action(async (opts: { workflow?: string; status: (typeof STATUSES)[number]; limit: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const page = await ok(
        ctx.api.GET('/v1/dead-letters', {
          params: { query: { workflowId: opts.workflow, status: opts.status, limit: Math.min(opts.limit, 200) } },
        }),
      );
      ctx.out.show(page.items, (items) =>
        table(items, ['id', 'runId', 'stepId', 'errorCode', 'httpStatus', 'attempts', 'status', 'createdAt']),
      );
    });
  dl.command('redrive <id>')
    .description('run the failed step again in its run, optionally with a corrected config (JSON, merged over it)')
    .option('--config <json>', "merged over the step's config")
    .option('--version <n>', 'take the step from this version of the workflow', positiveInt)
    .action(async (id: string, opts: { config?: string; version?: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const config = opts.config === undefined ? undefined : parseObject(opts.config);
      const answer = await ok(
        ctx.api.POST('/v1/dead-letters/{id}/redrive', {
          params: { path: { id } },
          body: { ...(config ? { config } : {}), ...(opts.version ? { version: opts.version } : {}) },
        }),
      );
      ctx.out.show(answer, () => `re-driven ${id}`);
    });
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--config is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError('--config is a JSON object');
  return Object.fromEntries(Object.entries(value));
}

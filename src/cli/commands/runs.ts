import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import type { components } from '../api-types.js';
import { ok } from '../client.js';
import { contextOf, type Context } from '../context.js';
import { CommandFailed, table } from '../output.js';
import { positiveInt, seconds } from './parse.js';

type Run = components['schemas']['Run'];
type RunSummary = components['schemas']['RunSummary'];

const STATUSES = ['running', 'waiting', 'completed', 'failed', 'cancelled', 'timed_out', 'terminated'] as const;
const ENDED = new Set(['completed', 'failed', 'cancelled', 'timed_out', 'terminated']);

const summaryRow = (r: RunSummary) => ({
  id: r.id,
  workflow: r.workflowId,
  version: r.version,
  status: r.parked ? 'failed (parked)' : r.status,
  started: r.startedAt,
  ended: r.endedAt,
});

function showRun(run: Run): string {
  const head = table([summaryRow(run)], ['id', 'workflow', 'version', 'status', 'started', 'ended']);
  const steps = table(
    run.steps.map((s) => ({ ...s, error: errorText(s.error) })),
    ['id', 'type', 'status', 'attempts', 'startedAt', 'endedAt', 'error'],
  );
  const end = run.error
    ? `\nerror: ${errorText(run.error)}`
    : run.result !== undefined
      ? `\nresult: ${JSON.stringify(run.result)}`
      : '';
  return `${head}\n\nSTEPS\n${steps}${end}`;
}

const errorText = (e: unknown) =>
  typeof e === 'object' && e !== null && 'code' in e
    ? `${String(e.code)}${'message' in e ? `: ${String(e.message)}` : ''}`
    : e === undefined || e === null
      ? undefined
      : JSON.stringify(e);

const getRun = (ctx: Context, id: string) => ok(ctx.api.GET('/v1/runs/{id}', { params: { path: { id } } }));

/**
 * Prints each step as its status changes until the run ends (or the time is up); polls once a second.
 * Exit 0 when the run completed, 1 otherwise.
 */
async function tail(ctx: Context, id: string, timeoutS: number): Promise<void> {
  const seen = new Map<string, string>();
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const run = await getRun(ctx, id);
    for (const step of run.steps) {
      const state = `${step.status}/${step.attempts}`;
      if (seen.get(step.id) === state) continue;
      seen.set(step.id, state);
      const line = { at: new Date().toISOString(), step: step.id, status: step.status, attempts: step.attempts };
      ctx.out.show(line, (l) => `${l.at}  ${l.step.padEnd(20)} ${l.status} (attempt ${l.attempts})`);
    }
    if (ENDED.has(run.status) && run.endedAt) {
      ctx.out.show(
        { id: run.id, status: run.status, result: run.result, error: run.error },
        (r) => `run ${r.id} ${r.status}${r.error ? `: ${errorText(r.error)}` : ''}`,
      );
      if (run.status !== 'completed') throw new CommandFailed(`run ${id} ended ${run.status}`);
      return;
    }
    if (Date.now() > deadline) throw new CommandFailed(`run ${id} is still ${run.status} after ${timeoutS}s`);
    await sleep(1000);
  }
}

/** `mz runs ls|get|tail|cancel|rerun|reset`. */
export function runCommands(mz: Command, env: NodeJS.ProcessEnv): void {
  const runs = mz.command('runs').description('list and act on runs');
  runs
    .command('ls')
    .description('list runs, newest first')
    .option('-w, --workflow <id>', 'only runs of this workflow')
    .addOption(new Option('-s, --status <status>', 'only runs in this status').choices(STATUSES))
    .option('-n, --limit <n>', 'at most this many', positiveInt, 50)
    .action(async (opts: { workflow?: string; status?: (typeof STATUSES)[number]; limit: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const page = await ok(
        ctx.api.GET('/v1/runs', {
          params: { query: { workflowId: opts.workflow, status: opts.status, limit: Math.min(opts.limit, 200) } },
        }),
      );
      ctx.out.show(page.items, (items) =>
        table(items.map(summaryRow), ['id', 'workflow', 'version', 'status', 'started', 'ended']),
      );
    });
  runs
    .command('get <id>')
    .description('a run with its steps')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      ctx.out.show(await getRun(ctx, id), showRun);
    });
  runs
    .command('tail <id>')
    .description("follow a run's steps live until it ends (exit 0 only if it completed)")
    .option('--timeout <seconds>', 'give up after this long', seconds, 3600)
    .action(async (id: string, opts: { timeout: number }, cmd: Command) =>
      tail(await contextOf(cmd, env), id, opts.timeout),
    );
  runs
    .command('cancel <id>')
    .description('cancel a running or waiting run')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const answer = await ok(ctx.api.POST('/v1/runs/{id}/cancel', { params: { path: { id } } }));
      ctx.out.show(answer, () => `cancelling run ${id}`);
    });
  runs
    .command('rerun <id>')
    .description("start a new run with the run's trigger payload")
    .option('--latest', 'on the latest version instead of the run’s own')
    .action(async (id: string, opts: { latest?: boolean }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const answer = await ok(
        ctx.api.POST('/v1/runs/{id}/rerun', {
          params: { path: { id } },
          body: { version: opts.latest ? 'latest' : 'same' },
        }),
      );
      ctx.out.show(answer, (a) => `started run ${a.runId}`);
    });
  runs
    .command('reset <id>')
    .description('resume the run from before a top-level step; earlier steps keep their outputs')
    .requiredOption('--from-step <stepId>', 'the step to run again')
    .action(async (id: string, opts: { fromStep: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const answer = await ok(
        ctx.api.POST('/v1/runs/{id}/reset', { params: { path: { id } }, body: { fromStep: opts.fromStep } }),
      );
      ctx.out.show(answer, (a) => `run ${a.runId} reset from ${opts.fromStep} (execution ${a.executionId})`);
    });
}

import type { Command } from 'commander';
import type { components } from '../api-types.js';
import { ok } from '../client.js';
import { contextOf, type Context } from '../context.js';
import { table } from '../output.js';
import { allWorkflows } from '../live-state.js';

type Trigger = components['schemas']['Trigger'];

const row = (t: Trigger) => ({
  id: t.id,
  workflow: t.workflowId,
  type: t.type,
  when: t.type === 'schedule' ? (t.cron ?? `every ${t.every ?? '?'}`) : `topic ${t.topic}`,
  paused: t.paused,
  version: t.version ?? 'latest',
});

async function listTriggers(ctx: Context, workflowId?: string): Promise<Trigger[]> {
  const ids = workflowId ? [workflowId] : (await allWorkflows(ctx.api)).map((w) => w.id);
  const lists = [];
  for (const id of ids)
    lists.push((await ok(ctx.api.GET('/v1/workflows/{id}/triggers', { params: { path: { id } } }))).items);
  return lists.flat();
}

/** `mz triggers ls|pause|resume|run`. */
export function triggerCommands(mz: Command, env: NodeJS.ProcessEnv): void {
  const triggers = mz.command('triggers').description('schedule and Kafka triggers');
  triggers
    .command('ls')
    .description("list triggers (every workflow's, or one's)")
    .option('-w, --workflow <id>', 'only of this workflow')
    .action(async (opts: { workflow?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      ctx.out.show(await listTriggers(ctx, opts.workflow), (items) =>
        table(items.map(row), ['id', 'workflow', 'type', 'when', 'paused', 'version']),
      );
    });
  for (const action of ['pause', 'resume'] as const)
    triggers
      .command(`${action} <id>`)
      .description(action === 'pause' ? 'no firings until resumed' : 'resume a paused trigger')
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const ctx = await contextOf(cmd, env);
        const path = action === 'pause' ? '/v1/triggers/{id}/pause' : '/v1/triggers/{id}/resume';
        const trigger = await ok(ctx.api.POST(path, { params: { path: { id } } }));
        ctx.out.show(trigger, (t) => table([row(t)], ['id', 'workflow', 'type', 'when', 'paused', 'version']));
      });
  triggers
    .command('run <id>')
    .description('fire a schedule trigger once now')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const answer = await ok(ctx.api.POST('/v1/triggers/{id}/run', { params: { path: { id } } }));
      ctx.out.show(answer, () => `fired trigger ${id}`);
    });
}

import { createInterface } from 'node:readline/promises';
import { Option, type Command } from 'commander';
import { readDesired } from '../apply/desired.js';
import { describe, execute, summary } from '../apply/execute.js';
import { exportTo } from '../apply/export.js';
import { makePlan, type Plan } from '../apply/plan.js';
import { contextOf, type Context } from '../context.js';
import { CommandFailed, EXIT } from '../output.js';

const collect = (value: string, all: string[] = []) => [...all, value];

function showPlan(ctx: Context, plan: Plan, verbose: boolean): void {
  ctx.out.show(plan, (p) =>
    [...p.changes.filter((c) => verbose || c.action !== 'unchanged').flatMap(describe), summary(p, 'Plan')].join('\n'),
  );
}

async function confirmed(): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question('Apply these changes? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

/** `mz apply`, `mz diff`, `mz export`: workflows, triggers and connections as files. */
export function applyCommands(mz: Command, env: NodeJS.ProcessEnv): void {
  mz.command('apply')
    .description('make the tenant match the files: prints the plan, applies it with --yes')
    .requiredOption('-f, --file <path>', 'a file or directory (repeatable)', collect)
    .option('--prune', 'delete workflows with a key no file has (archived, their triggers deleted)')
    .option('-y, --yes', 'apply without asking')
    .option('--auto-approve', 'the same, for CI')
    .action(async (opts: { file: string[]; prune?: boolean; yes?: boolean; autoApprove?: boolean }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const plan = await makePlan(ctx.api, await readDesired(opts.file), { prune: opts.prune === true });
      const { create, update, delete: remove } = plan.counts;
      const approved = opts.yes === true || opts.autoApprove === true;
      if (ctx.out.json && (!approved || create + update + remove === 0)) return showPlan(ctx, plan, true);
      if (!ctx.out.json) showPlan(ctx, plan, false);
      if (create + update + remove === 0) return;
      if (!approved && !(await confirmed())) {
        ctx.out.print('Not applied: run again with --yes (or --auto-approve) to apply.');
        return;
      }
      const applied: unknown[] = [];
      await execute(ctx.api, plan, (c) => {
        applied.push(c);
        if (!ctx.out.json) ctx.out.print(`applied ${describe(c)[0] ?? ''}`);
      });
      if (ctx.out.json) ctx.out.show({ ...plan, applied }, () => '');
      else ctx.out.print(summary(plan, 'Applied'));
    });

  mz.command('diff')
    .description(`compare files with the live tenant (exit ${EXIT.differences} when they differ)`)
    .requiredOption('-f, --file <path>', 'a file or directory (repeatable)', collect)
    .option('--prune', 'count workflows with a key no file has as differences')
    .option('-v, --verbose', 'list unchanged items too')
    .action(async (opts: { file: string[]; prune?: boolean; verbose?: boolean }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const plan = await makePlan(ctx.api, await readDesired(opts.file), { prune: opts.prune === true });
      showPlan(ctx, plan, opts.verbose === true);
      if (plan.counts.create + plan.counts.update + plan.counts.delete > 0)
        throw new CommandFailed('the files and the tenant differ', EXIT.differences);
    });

  mz.command('export')
    .description('write the live workflows, their triggers and the connections as files mz apply reads')
    .requiredOption('-o, --out <dir>', 'the directory to write')
    .addOption(new Option('--format <format>', 'file format').choices(['yaml', 'json']).default('yaml'))
    .action(async (opts: { out: string; format: 'yaml' | 'json' }, cmd: Command) => {
      const ctx = await contextOf(cmd, env);
      const files = await exportTo(ctx.api, opts.out, opts.format);
      ctx.out.show(files, (f) => `wrote ${f.length} file${f.length === 1 ? '' : 's'} to ${opts.out}`);
    });
}
